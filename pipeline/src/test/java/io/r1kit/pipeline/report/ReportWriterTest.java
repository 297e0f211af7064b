package io.r1kit.pipeline.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportWriterTest {

    @Test
    void writesASelfContainedPageWithTheRunsDataAndThePlots(@TempDir Path run) throws Exception {
        StringBuilder m = new StringBuilder();
        for (int s = 1; s <= 10; s++) {
            m.append("{\"stage\":\"r1_zero\",\"step\":").append(s).append(",\"reward\":").append(s / 10.0)
                    .append(",\"rewards/accuracy/mean\":").append(s / 20.0).append(",\"rewards/format/mean\":0.5")
                    .append(",\"kl\":0.01,\"completions/mean_length\":").append(40 - s).append("}\n");
        }
        m.append("{\"stage\":\"r1_zero\",\"step\":11,\"rew"); // torn last line of a killed run
        Files.writeString(run.resolve("metrics.jsonl"), m);
        Files.createDirectories(run.resolve("eval"));
        Files.writeString(run.resolve("eval/base.json"), "{\"accuracy\":0.1,\"format_rate\":0.3,\"mean_length\":50,\"n\":200}");
        Files.writeString(run.resolve("eval/r1_zero.json"), "{\"accuracy\":0.6,\"format_rate\":0.95,\"mean_length\":31.5,\"n\":200}");
        Files.createDirectories(run.resolve("samples/r1_zero"));
        Files.writeString(run.resolve("samples/r1_zero/step-1.jsonl"), "{\"prompt\":\"1+1\",\"completion\":\"<think>x</think><answer>2</answer>\",\"reward\":1.0}\n");
        Files.writeString(run.resolve("samples/r1_zero/step-10.jsonl"), "{\"prompt\":\"2+2\",\"completion\":\"<b>4\",\"reward\":0.0}\n");
        Files.writeString(run.resolve("config.yaml"), "name: demo\n");

        Path html = ReportWriter.write(run);
        String text = Files.readString(html);
        // the page's data: every metrics line, the samples, the eval table and the config, embedded
        assertTrue(text.contains("window.R1KIT_DATA = "), "data embedded");
        assertTrue(text.contains("\"rewards/accuracy/mean\":0.5"), "metrics lines");
        assertTrue(text.contains("\\u003cb>4"), "a completion's '<' cannot close the script element it sits in");
        assertFalse(text.contains("<b>4"));
        assertTrue(text.contains("<th>accuracy</th>") && text.contains("0.6000"), "eval table, also for viewers without scripts");
        assertTrue(text.contains("name: demo"), "config shown");
        assertFalse(text.matches("(?s).*(src|href)=\"[^\"]+\".*"), "nothing loaded from elsewhere");
        assertTrue(text.contains("Content-Security-Policy\" content=\"default-src 'none'"), "and nothing may be");
        for (String p : List.of("r1_zero-reward.png", "r1_zero-accuracy.png", "r1_zero-kl.png", "r1_zero-length.png")) {
            Path png = run.resolve("plots").resolve(p);
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, p + " is a PNG");
            assertEquals(720, img.getWidth());
        }
        assertFalse(Files.exists(run.resolve("plots/r1_zero-entropy.png")), "no plot without data");
    }

    @Test
    void seriesHeadAndTailMeans() {
        var s = new MetricsFile.Series("r", List.of(1.0, 2.0, 3.0, 4.0, 5.0), List.of(0.0, 0.0, 1.0, 1.0, 2.0));
        assertEquals(0.0, s.headMean(0.2));
        assertEquals(2.0, s.tailMean(0.2));
        assertEquals(List.of("rewards/a/mean", "kl"), ReportWriter.expand(List.of("rewards/*/mean", "kl"),
                List.of("step", "rewards/a/mean", "rewards/a/std")));
    }

    /** A run started with --run-dir X/run is titled by its config's name, not by the directory. */
    @Test
    void titleIsTheConfigsNameNotTheDirectory(@TempDir Path parent) throws Exception {
        Path run = Files.createDirectories(parent.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"), "");
        Files.writeString(run.resolve("config.yaml"), "name: quickstart\nseed: 1\n");
        String text = Files.readString(ReportWriter.write(run));
        assertTrue(text.contains("<title>r1kit report: quickstart</title>") && text.contains("<h1>r1kit report: quickstart</h1>"), text);
        assertFalse(text.contains("report: run<"), text);

        Path bare = Files.createDirectories(parent.resolve("bare-run"));
        assertEquals("bare-run", ReportWriter.runName(bare), "without a saved config the directory names it");
    }
}

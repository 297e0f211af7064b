package io.r1kit.pipeline.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run on a disk that fills up, and on a read-only one, with real file systems: a size-limited tmpfs
 * mounted for the test (which needs root and a kernel that allows it; elsewhere the test is skipped
 * with the reason). The run must stop with a one-line error naming the path and the system's reason
 * (no stack trace), leave its last complete checkpoint intact, and, once space is back, resume to the
 * same weights, metrics and eval files as a run that never failed.
 */
class DiskFullTest {
    @TempDir
    Path tmp;
    private Path mountPoint;

    @AfterEach
    void unmount() throws Exception {
        if (mountPoint != null) sh("umount", mountPoint.toString());
    }

    @Test
    void aFullDiskStopsTheRunCleanlyAndItResumesOnceSpaceIsBack() throws Exception {
        Path cfg = tmp.resolve("killme.yaml");
        Files.writeString(cfg, KillResumeTest.CONFIG);
        Path ref = tmp.resolve("ref");
        assertEquals(0, ChildRuns.runToEnd(cfg, ref, tmp.resolve("ref.log"), List.of()), () -> ChildRuns.read(tmp.resolve("ref.log")));
        long bytes = size(ref);

        // 60% of what the run writes: it fails part-way, inside the checkpoints (they are most of the bytes)
        long limitKb = (bytes * 6 / 10 / 4096 + 1) * 4;
        mount(tmp.resolve("disk"), "size=" + limitKb + "k");
        Path run = mountPoint.resolve("run"), log = tmp.resolve("full.log");
        int rc = ChildRuns.runToEnd(cfg, run, log, List.of());
        String out = ChildRuns.read(log);
        assertNotEquals(0, rc, "the run cannot finish in " + limitKb + " KiB: " + out);
        assertTrue(out.contains("r1kit: error: ") && out.contains("No space left on device") && out.contains(run.toString()),
                "a one-line error naming the path and the reason:\n" + out);
        assertFalse(out.contains("\tat io.r1kit"), "no stack trace for a full disk:\n" + out);
        // every stage's 'latest' names a complete checkpoint
        try (Stream<Path> stages = Files.list(run.resolve("checkpoints"))) {
            for (Path stage : stages.toList()) {
                Path latest = stage.resolve("latest");
                if (!Files.exists(latest)) continue;
                Path ckpt = stage.resolve(Files.readString(latest).trim());
                assertTrue(Files.exists(ckpt.resolve("trainer_state.json")) && Files.exists(ckpt.resolve("model.safetensors")),
                        latest + " names an incomplete checkpoint " + ckpt);
            }
        }

        sh("mount", "-o", "remount,size=256m", mountPoint.toString());
        assertEquals(0, ChildRuns.runToEnd(cfg, run, log, List.of()), () -> ChildRuns.read(log));
        for (String f : List.of("eval/final_eval.json", "eval/r1_zero.json")) {
            assertEquals(ChildRuns.withoutTimes(ChildRuns.JSON.readTree(ref.resolve(f).toFile())),
                    ChildRuns.withoutTimes(ChildRuns.JSON.readTree(run.resolve(f).toFile())), f);
        }
        for (String w : List.of("checkpoints/pretrain/final/model.safetensors", "checkpoints/r1_zero/checkpoint-6/model.safetensors")) {
            assertArrayEquals(Files.readAllBytes(ref.resolve(w)), Files.readAllBytes(run.resolve(w)), w);
        }
        Map<String, JsonNode> a = ChildRuns.metricsByStep(ref), b = ChildRuns.metricsByStep(run);
        assertEquals(a, b, "every metrics line once, with the uninterrupted run's values");
        try (Stream<Path> all = Files.walk(run)) {
            assertEquals(List.of(), all.filter(p -> p.getFileName().toString().endsWith(".partial")).toList(), "partial checkpoints left");
        }
    }

    @Test
    void aReadOnlyRunDirectoryIsRefusedWithItsPath() throws Exception {
        Path cfg = tmp.resolve("killme.yaml");
        Files.writeString(cfg, KillResumeTest.CONFIG);
        mount(tmp.resolve("ro"), "size=1m,ro");
        Path run = mountPoint.resolve("run"), log = tmp.resolve("ro.log");
        int rc = ChildRuns.runToEnd(cfg, run, log, List.of());
        String out = ChildRuns.read(log);
        assertNotEquals(0, rc, out);
        assertTrue(out.contains("r1kit: error: ") && out.contains(run.toString()) && out.contains("Read-only file system"), out);
        assertFalse(out.contains("\tat io.r1kit"), "no stack trace for a read-only directory:\n" + out);
    }

    private void mount(Path dir, String options) throws Exception {
        Files.createDirectories(dir);
        int rc = sh("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString());
        assumeTrue(rc == 0, "skipped: cannot mount a size-limited tmpfs here (needs root and mount rights)");
        mountPoint = dir;
    }

    private static int sh(String... cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return -1;
        }
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;

/**
 * The layout of {@code runs/<name>/} (a contract other tools rely on):
 * <pre>
 *   config.yaml            resolved config          run.log        console log
 *   metrics.jsonl          one line per step, each with stage and step
 *   samples/&lt;stage&gt;/step-N.jsonl                   checkpoints/&lt;stage&gt;/checkpoint-N/ (HF layout + trainer state)
 *   checkpoints/&lt;stage&gt;/final/  the stage's final model (HF layout)
 *   eval/&lt;stage&gt;.json       accuracy, format_rate, mean_length, n, …
 *   report.html + plots/   data/&lt;name&gt;.jsonl (generated data sets)    stages/&lt;stage&gt;.json (completion markers)
 *   tensorboard/&lt;stage&gt;/events.out.tfevents.*   (with {@code tensorboard: true}; mirrors metrics.jsonl)
 * </pre>
 * Every file that marks progress is written to a temporary name and renamed, so a killed run never
 * leaves a half-written marker.
 */
public final class RunDirectory {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;

    public RunDirectory(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() { return root; }
    public Path configFile() { return root.resolve("config.yaml"); }
    public Path logFile() { return root.resolve("run.log"); }
    public Path metricsFile() { return root.resolve("metrics.jsonl"); }
    public Path dataDir() { return root.resolve("data"); }
    public Path tokenizerDir() { return root.resolve("tokenizer"); }
    public Path checkpoints(String stage) { return root.resolve("checkpoints").resolve(stage); }
    public Path finalModel(String stage) { return checkpoints(stage).resolve("final"); }
    public Path samples(String stage) { return root.resolve("samples").resolve(stage); }
    public Path evalFile(String stage) { return root.resolve("eval").resolve(stage + ".json"); }
    public Path stageMarker(String stage) { return root.resolve("stages").resolve(stage + ".json"); }
    /** A stage's work files that are not checkpoints, samples or metrics (e.g. rejection-sampling output). */
    public Path stageDir(String stage) { return root.resolve("stages").resolve(stage); }

    /** The completion marker of a stage, if it finished. */
    public Optional<JsonNode> completed(String stage) {
        Path m = stageMarker(stage);
        if (!Files.exists(m)) return Optional.empty();
        try {
            return Optional.of(JSON.readTree(m.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read stage marker " + m, e);
        }
    }

    /** Marks a stage finished (atomically). */
    public void markCompleted(String stage, Map<String, ?> info) {
        ObjectNode n = JSON.valueToTree(info);
        writeAtomically(stageMarker(stage), n.toPrettyString());
    }

    public void writeJson(Path file, Object value) {
        try {
            writeAtomically(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public static void writeAtomically(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}

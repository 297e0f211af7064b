package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.r1kit.pipeline.report.ReportWriter;
import io.r1kit.pipeline.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the dashboard shows of one run, as JSON: its config, the status of each stage (done,
 * running with its progress, stopped, pending), the eval table, and which steps have logged
 * samples; and the samples of one step. Reads only files of the run directory, named by the run
 * directory layout ({@link RunDirectory}); a stage or step a request names is looked up among the
 * files present, never joined into a path unchecked.
 */
public final class RunView {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** A stage with no finish marker counts as running while its run wrote something this recently. */
    static final long ACTIVE_MILLIS = 120_000;

    private RunView() {}

    /** The run's summary; {@code tail} is the run's refreshed metrics. */
    public static ObjectNode summary(RunsTree.Run run, MetricsTail tail, long nowMillis) {
        RunDirectory dir = new RunDirectory(run.dir());
        ObjectNode o = JSON.createObjectNode();
        o.put("id", run.id());
        o.put("name", run.name());
        if (run.ablation() != null) o.put("ablation", run.ablation());
        if (run.variant() != null) o.put("variant", run.variant());
        if (run.seed() != null) o.put("seed", run.seed());
        String config = read(dir.configFile()).orElse("");
        o.put("config", config);
        long lastWrite = Math.max(tail.modified(), modified(dir.logFile()));
        o.put("last_write", lastWrite);
        boolean active = lastWrite > 0 && nowMillis - lastWrite < ACTIVE_MILLIS;
        o.set("stages", stages(dir, config, tail.progress(), active));
        o.put("eval_html", ReportWriter.evalTableHtml(run.dir()));
        ObjectNode samples = o.putObject("samples");
        sampleSteps(run.dir()).forEach((stage, steps) -> {
            ArrayNode a = samples.putArray(stage);
            steps.forEach(a::add);
        });
        return o;
    }

    static ArrayNode stages(RunDirectory dir, String configText, Map<String, MetricsTail.StageProgress> progress, boolean active) {
        ArrayNode out = JSON.createArrayNode();
        JsonNode cfg = null;
        try {
            cfg = configText.isBlank() ? null : YAML.readTree(configText);
        } catch (IOException | RuntimeException e) {
            // a run whose config does not parse still shows its curves
        }
        List<String> named = new ArrayList<>();
        boolean runningSeen = false;
        for (JsonNode st : cfg == null ? JSON.createArrayNode() : cfg.path("stages")) {
            String name = st.hasNonNull("name") ? st.get("name").asText() : st.path("type").asText();
            named.add(name);
            ObjectNode s = out.addObject();
            s.put("name", name);
            s.put("type", st.path("type").asText(""));
            Optional<JsonNode> done = dir.completed(name);
            MetricsTail.StageProgress p = progress.get(name);
            if (p != null) {
                s.put("step", p.lastStep());
                if (Double.isFinite(p.lastEpoch())) s.put("epoch", p.lastEpoch());
            }
            if (st.path("max_steps").isNumber() && st.get("max_steps").asLong() > 0) s.put("max_steps", st.get("max_steps").asLong());
            if (done.isPresent()) {
                s.put("status", "done");
                s.put("progress", 1.0);
                JsonNode d = done.get();
                if (d.path("seconds").isNumber()) s.put("seconds", d.get("seconds").asDouble());
                if (d.hasNonNull("finished_at")) s.put("finished_at", d.get("finished_at").asText());
                if (d.hasNonNull("borrowed_from")) s.put("borrowed_from", d.get("borrowed_from").asText());
                continue;
            }
            boolean started = p != null || Files.isDirectory(dir.checkpoints(name)) || Files.isDirectory(dir.samples(name));
            if (!runningSeen && (started || active)) {
                runningSeen = true;
                s.put("status", active ? "running" : "stopped");
                Double frac = null;
                if (p != null && s.has("max_steps")) frac = (double) p.lastStep() / s.get("max_steps").asLong();
                else if (p != null && Double.isFinite(p.lastEpoch()) && st.path("num_train_epochs").isNumber()) {
                    frac = p.lastEpoch() / st.get("num_train_epochs").asDouble();
                }
                if (frac != null) s.put("progress", Math.min(1.0, Math.max(0.0, frac)));
            } else {
                s.put("status", "pending");
            }
        }
        // stages seen in the metrics but not in the config (a config edited since, or none at all)
        for (Map.Entry<String, MetricsTail.StageProgress> e : new TreeMap<>(progress).entrySet()) {
            if (named.contains(e.getKey()) || e.getKey().isEmpty()) continue;
            ObjectNode s = out.addObject();
            s.put("name", e.getKey());
            s.put("type", "");
            s.put("step", e.getValue().lastStep());
            s.put("status", dir.completed(e.getKey()).isPresent() ? "done" : active ? "running" : "stopped");
        }
        return out;
    }

    /** Stage name to the steps with a samples file, ascending. */
    public static Map<String, List<Long>> sampleSteps(Path runDir) {
        Map<String, List<Long>> out = new TreeMap<>();
        Path root = runDir.resolve("samples");
        if (!Files.isDirectory(root)) return out;
        try (Stream<Path> stages = Files.list(root)) {
            for (Path st : stages.filter(Files::isDirectory).sorted().toList()) {
                List<Long> steps = new ArrayList<>();
                try (Stream<Path> files = Files.list(st)) {
                    for (Path f : files.toList()) {
                        String n = f.getFileName().toString();
                        if (n.matches("step-\\d{1,18}\\.jsonl")) steps.add(Long.parseLong(n.substring(5, n.length() - 6)));
                    }
                }
                steps.sort(null);
                if (!steps.isEmpty()) out.put(st.getFileName().toString(), steps);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root, e);
        }
        return out;
    }

    /**
     * The samples of one step as a JSON array (one object per completion, torn lines skipped), or
     * empty when the run logged no such step.
     */
    public static Optional<ArrayNode> samples(Path runDir, String stage, long step) {
        List<Long> steps = sampleSteps(runDir).get(stage);
        if (steps == null || !steps.contains(step)) return Optional.empty();
        Path f = runDir.resolve("samples").resolve(stage).resolve("step-" + step + ".jsonl");
        ArrayNode out = JSON.createArrayNode();
        for (String l : read(f).orElse("").split("\n")) {
            if (l.isBlank()) continue;
            try {
                JsonNode n = JSON.readTree(l);
                if (n != null && n.isObject()) out.add(n);
            } catch (IOException e) {
                // a torn line
            }
        }
        return Optional.of(out);
    }

    static Optional<String> read(Path f) {
        if (!Files.isRegularFile(f)) return Optional.empty();
        try {
            return Optional.of(Files.readString(f, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }

    static long modified(Path f) {
        try {
            return Files.exists(f) ? Files.getLastModifiedTime(f).toMillis() : 0;
        } catch (IOException e) {
            return 0;
        }
    }
}

package io.r1kit.pipeline.faults;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code r1kit run CONFIG} in a child JVM (the test's own classpath) and reads what it wrote, for
 * tests whose subject is the whole process: killing it, or starting it with another thread count.
 */
final class ChildRuns {
    static final ObjectMapper JSON = new ObjectMapper();

    private ChildRuns() {}

    /** Starts the run; its output goes to {@code log}. {@code jvmProps} are extra -D options. */
    static Process start(Path cfg, Path run, Path log, List<String> jvmProps) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Dai.djl.offline=true"));
        cmd.addAll(jvmProps);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.r1kit.pipeline.cli.Main",
                "run", cfg.toString(), "--run-dir", run.toString()));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Runs to the end (at most 10 minutes) and returns the exit status. */
    static int runToEnd(Path cfg, Path run, Path log, List<String> jvmProps) throws Exception {
        Process p = start(cfg, run, log, jvmProps);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("run did not finish in 10 minutes");
        }
        return p.exitValue();
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** Keys whose values are clocks, not results. */
    static boolean isTime(String key) {
        return key.contains("time") || key.contains("per_second") || key.contains("_s") && key.endsWith("_s")
                || key.equals("timestamp") || key.endsWith("seconds");
    }

    static JsonNode withoutTimes(JsonNode n) {
        if (n instanceof ObjectNode o) {
            ObjectNode c = o.deepCopy();
            List<String> drop = new ArrayList<>();
            c.fieldNames().forEachRemaining(k -> { if (isTime(k)) drop.add(k); });
            c.remove(drop);
            c.fields().forEachRemaining(e -> e.setValue(withoutTimes(e.getValue())));
            return c;
        }
        return n;
    }

    /** metrics.jsonl keyed by stage/step, clocks left out; a duplicated step fails here. */
    static Map<String, JsonNode> metricsByStep(Path run) throws IOException {
        Map<String, JsonNode> out = new TreeMap<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode n = JSON.readTree(line);
            boolean eval = false;
            for (var it = n.fieldNames(); it.hasNext(); ) eval |= it.next().startsWith("eval/");
            String key = n.path("stage").asText() + "/" + n.path("step").asText() + (eval ? "/eval" : "/train");
            JsonNode prev = out.put(key, withoutTimes(n));
            assertTrue(prev == null, run + ": metrics line " + key + " appears twice");
        }
        return out;
    }
}

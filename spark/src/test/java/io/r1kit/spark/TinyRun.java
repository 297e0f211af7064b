package io.r1kit.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.pipeline.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tiny run (pretrain one step, then rejection sampling), run in-process or on a cluster, and its files compared. */
final class TinyRun {
    private static final ObjectMapper JSON = new ObjectMapper();
    private TinyRun() {}

    /**
     * Pretrain a scratch model one step, rejection-sample {@code prompts} prompts (chunks of 4) with the rule
     * judge, SFT, evaluate on {@code evalPrompts} prompts (the stage's greedy eval and an eval stage with 2
     * samples each; chunks of 64).
     */
    static String config(int prompts, int evalPrompts, String extraRewards, String cluster) {
        return """
                name: cl
                seed: 3
                device: cpu
                template: toy
                data:
                  corpus: {generate: {task: pretrain-corpus, n: 40, seed: 1}}
                  train:  {generate: {task: bilingual, n: %d, seed: 2, params: {part: train, mixed_rate: 0.5}}}
                  test:   {generate: {task: bilingual, n: %d, seed: 3, params: {part: test}}}
                tokenizer: {char: {}}
                model:
                  scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 320}
                rewards:
                  - {name: accuracy, weight: 1.0}
                  - {name: format, weight: 0.5}
                %s
                stages:
                  - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 4, max_steps: 1, logging_steps: 1}
                  - name: rejection
                    type: rejection_sampling
                    data: train
                    eval_data: test
                    sampling: {samples_per_prompt: 3, max_new_tokens: 8, judge: rules, correct_threshold: 0.0, max_per_prompt: 2,
                               language_threshold: 0, drop_truncated: false, prompt_batch_size: 4, temperature: 1.0}
                    sft: {max_steps: 1, batch_size: 4, max_seq_length: 320, logging_steps: 1}
                    eval: {max_completion_length: 4}
                  - {name: final_eval, type: eval, data: test, num_samples: 2, temperature: 1.0, max_completion_length: 4}
                %s
                """.formatted(prompts, evalPrompts, extraRewards, cluster);
    }

    /**
     * Pretrain a scratch model one step, then 3 GRPO steps (3 prompts x 2 completions, 2 mini-batches,
     * samples logged every step, a KL term against the start) and 2 PPO steps, then an eval stage. The
     * overlong penalty gives completions of different lengths different rewards, so the policy moves.
     */
    static String rlConfig(String cluster) {
        return """
                name: cl-rl
                seed: 5
                device: cpu
                template: toy
                data:
                  corpus: {generate: {task: pretrain-corpus, n: 40, seed: 1}}
                  train:  {generate: {task: arithmetic, n: 12, seed: 2, params: {part: train}}}
                  test:   {generate: {task: arithmetic, n: 4, seed: 3, params: {part: test}}}
                tokenizer: {char: {}}
                model:
                  scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 256}
                rewards:
                  - {name: accuracy, weight: 1.0}
                  - {name: format, weight: 0.5}
                  - {name: overlong, weight: 1.0, params: {max_length: 12, buffer_length: 11}}
                %s
                stages:
                  - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 4, max_steps: 1, logging_steps: 1}
                  - {name: r1_zero, type: grpo, data: train, eval_data: test, prompts_per_step: 3, num_generations: 2,
                     max_completion_length: 12, temperature: 1.0, beta: 0.04, num_mini_batches: 2, learning_rate: 0.001,
                     max_steps: 3, save_steps: 2, log_completions_steps: 1, eval_steps: 0}
                  - {name: ppo, type: ppo, data: train, prompts_per_step: 3, num_generations: 2, max_completion_length: 12,
                     temperature: 1.0, learning_rate: 0.001, max_steps: 2, save_steps: 2, log_completions_steps: 1}
                  - {name: final_eval, type: eval, data: test, num_samples: 2, temperature: 1.0, max_completion_length: 12}
                %s
                """.formatted(cluster, "");
    }

    /** Exit code and what the command printed. */
    record Result(int exit, String err) {}

    /** Runs the CLI in this JVM. */
    static synchronized Result cli(String... args) {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().execute(args);
            return new Result(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
        }
    }

    /**
     * Runs the CLI in a new JVM with this JVM's class path (Spark's jars and this module included) and
     * the classes it loads logged to {@code classLog}: what a run loads when nothing asks for a cluster.
     */
    static Result childJvm(Path classLog, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Xlog:class+load=info:file=" + classLog, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(classLog.getParent(), "child", ".err");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            int code = p.waitFor();
            return new Result(code, Files.readString(err));
        } finally {
            p.destroyForcibly();
        }
    }

    /** The Spark and r1kit-spark classes a class-load log names. */
    static List<String> sparkClasses(Path classLog) throws IOException {
        return Files.readAllLines(classLog).stream().filter(l -> l.contains(" org.apache.spark.") || l.contains(" io.r1kit.spark.")).toList();
    }

    /** Every regular file under {@code dir} by relative path, with its bytes as text. */
    static Map<String, String> files(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var walk = Files.walk(dir)) {
            for (Path f : walk.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(f).toString(), new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
        }
        return out;
    }

    /** A metrics line as JSON. */
    static JsonNode json(String line) {
        try {
            return JSON.readTree(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The RL stages' metrics lines without what measures wall-clock time or the cluster itself (time/*,
     * eval/time, step_time, tokens_per_second, cluster/*, wall_time).
     */
    static List<JsonNode> rlMetrics(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            ObjectNode m = (ObjectNode) json(line);
            String stage = m.path("stage").asText();
            if (!stage.equals("r1_zero") && !stage.equals("ppo")) continue;
            List<String> drop = new ArrayList<>();
            m.fieldNames().forEachRemaining(k -> {
                if (k.startsWith("time/") || k.endsWith("/time") || k.startsWith("cluster/") || k.equals("step_time")
                        || k.equals("tokens_per_second") || k.equals("wall_time")) drop.add(k);
            });
            m.remove(drop);
            out.add(m);
        }
        return out;
    }

    /**
     * Two runs of {@link #rlConfig} (in-process and on a cluster) logged the same samples at every RL
     * step, hold the same weights and optimizer state after their last step, wrote the same metrics
     * (apart from times and the cluster's own) and the same final eval.
     */
    static void assertSameRlOutputs(Path a, Path b) throws IOException {
        for (String stage : List.of("r1_zero", "ppo")) {
            // the logged completions with their rewards, advantages and log-probs, step by step
            var sa = TinyRun.files(a.resolve("samples").resolve(stage));
            assertEquals(stage.equals("r1_zero") ? 3 : 2, sa.size(), stage + ": a samples file per step");
            assertEquals(sa, TinyRun.files(b.resolve("samples").resolve(stage)), stage + ": samples differ");
            // the weights and optimizer state after the last step
            String last = "checkpoint-" + (stage.equals("r1_zero") ? 3 : 2);
            var wa = TinyRun.files(a.resolve("checkpoints").resolve(stage).resolve(last));
            var wb = TinyRun.files(b.resolve("checkpoints").resolve(stage).resolve(last));
            assertTrue(wa.containsKey("model.safetensors"), wa.keySet().toString());
            assertEquals(wa.keySet(), wb.keySet());
            for (String f : wa.keySet()) {
                if (!f.equals("trainer_state.json")) assertEquals(wa.get(f), wb.get(f), stage + ": " + last + "/" + f + " differs");
            }
        }
        // every metric of every step but wall-clock times and the cluster's own. The sampler's log-probs
        // (the sampling/* mismatch metrics) agree to float rounding only: an executor prefills a slice of the
        // step's prompts, fewer rows than in-process, and the CPU GEMM takes another path (another summation
        // order) for another row count; the sampled tokens, the rewards and the weights are exact.
        List<JsonNode> ma = rlMetrics(a), mb = rlMetrics(b);
        assertEquals(3 + 1 + 2, ma.size(), "3 GRPO steps, GRPO's final eval, 2 PPO steps");
        assertTrue(ma.get(0).get("grad_norm").asDouble() > 0, "the policy moves: " + ma.get(0));
        for (int i = 0; i < ma.size(); i++) {
            ObjectNode x = (ObjectNode) ma.get(i), y = (ObjectNode) mb.get(i);
            for (String k : List.of("sampling/importance_sampling_ratio/min", "sampling/importance_sampling_ratio/mean",
                    "sampling/importance_sampling_ratio/max", "sampling/sampling_logp_difference/mean", "sampling/sampling_logp_difference/max")) {
                if (!x.has(k)) continue;
                assertEquals(x.get(k).asDouble(), y.get(k).asDouble(), 1e-6, "line " + i + ": " + k);
                x.remove(k);
                y.remove(k);
            }
            assertEquals(x, y, "metrics line " + i);
        }
        assertEquals(Files.readString(a.resolve("eval/final_eval.json")), Files.readString(b.resolve("eval/final_eval.json")));
    }

    /** The sampling outputs of the two runs are equal byte for byte, and so are the eval files and the stage's final model. */
    static void assertSameOutputs(Path inProcess, Path cluster) throws IOException {
        Map<String, String> a = files(inProcess.resolve("stages/rejection/rejection"));
        Map<String, String> b = files(cluster.resolve("stages/rejection/rejection"));
        assertEquals(Set.of("accepted.jsonl", "rejected.jsonl", "progress.jsonl", "stats.json", "sft_mix.jsonl"), a.keySet());
        assertEquals(a.keySet(), b.keySet());
        for (String f : a.keySet()) assertEquals(a.get(f), b.get(f), "stages/rejection/rejection/" + f + " differs");
        for (String eval : List.of("eval/rejection.json", "eval/final_eval.json")) {
            assertEquals(Files.readString(inProcess.resolve(eval)), Files.readString(cluster.resolve(eval)), eval);
        }
        Map<String, String> ma = files(inProcess.resolve("checkpoints/rejection/final"));
        Map<String, String> mb = files(cluster.resolve("checkpoints/rejection/final"));
        assertEquals(ma.keySet(), mb.keySet());
        for (String f : ma.keySet()) assertEquals(ma.get(f), mb.get(f), "final model file " + f + " differs");
    }
}

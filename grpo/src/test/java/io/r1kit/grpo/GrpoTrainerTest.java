package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.grpo.train.NonFiniteLossException;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer loop on the toy copy-the-digit task: metrics, resume, old log-probs, NaN guard, dynamic sampling. */
class GrpoTrainerTest {

    /** Every key the issue lists for a step line. */
    static final List<String> STEP_KEYS = List.of("step", "reward", "reward_std", "rewards/copy/mean", "frac_reward_zero_std",
            "completions/mean_length", "completions/mean_length_correct", "completions/mean_length_incorrect",
            "completions/clipped_ratio", "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean",
            "loss", "grad_norm", "learning_rate", "num_tokens", "tokens_per_second", "time/rollout", "time/score", "time/update",
            "step_time");
    static final List<String> EVAL_KEYS = List.of("eval/accuracy", "eval/rewards/copy/mean", "eval/completions/mean_length_correct",
            "eval/completions/mean_length_incorrect", "eval/format_rate");
    /** Wall-clock metrics: the only values allowed to differ between two runs of the same seed. */
    static final Set<String> TIMING = Set.of("tokens_per_second", "time/rollout", "time/score", "time/update", "step_time", "eval/time",
            "wall_time");

    static Map<String, Object> base() {
        Map<String, Object> m = new HashMap<>();
        m.put("prompts_per_step", 4);
        m.put("num_generations", 4);
        m.put("max_completion_length", 2);
        m.put("max_prompt_length", 8);
        m.put("learning_rate", 1e-2);
        m.put("save_steps", 0);
        m.put("log_completions_steps", 0);
        return m;
    }

    static GrpoConfig config(Object... kv) {
        Map<String, Object> m = base();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return GrpoConfig.of(m);
    }

    /**
     * 2N steps == N steps, kill, resume N steps: bit-identical weights, metrics and samples. Runs on the
     * scalar ReferenceBackend: the Vector API CpuBackend is not bit-reproducible between a cold and a
     * JIT-warmed JVM (two identical uninterrupted runs in one JVM already differ in the last ulp),
     * which would hide what this test checks: that the checkpoint holds the complete state.
     */
    @Test
    void resumeAfterAKillGivesBitIdenticalWeightsAndMetrics(@TempDir Path tmp) throws Exception {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            resumeIsExact(tmp);
        }
    }

    private void resumeIsExact(Path tmp) throws Exception {
        ToyTask task = new ToyTask();
        GrpoConfig c = config("max_steps", 6, "save_steps", 3, "beta", 0.04, "num_iterations", 2, "eval_steps", 3,
                "log_completions_steps", 1, "lr_scheduler", "cosine", "warmup_ratio", 0.2, "weight_decay", 0.01);
        Path a = tmp.resolve("a"), b = tmp.resolve("b");

        CausalLM full = task.model(5);
        task.trainer(c, full, a).eval(ToyTask.digits(6, 9, "eval-")).stage("r1-zero").build().train();

        // the interrupted run: killed after step 4's metrics line, before anything else of step 4 is saved
        CausalLM first = task.model(5);
        RuntimeException kill = new RuntimeException("simulated kill");
        var killed = assertThrows(RuntimeException.class, () -> task.trainer(c, first, b).eval(ToyTask.digits(6, 9, "eval-"))
                .stage("r1-zero").listener(new TrainerListener() {
                    @Override
                    public void onStep(long step, Map<String, Object> metrics) {
                        if (step == 4) throw kill;
                    }
                }).build().train());
        assertEquals(kill, killed);
        assertEquals(3, CheckpointStore.stepOf(new CheckpointStore(b.resolve("checkpoints"), 2).latest().orElseThrow()));

        // a fresh process: same initial model, resume
        CausalLM second = task.model(5);
        GrpoTrainer.Result r = task.trainer(c, second, b).eval(ToyTask.digits(6, 9, "eval-")).stage("r1-zero").resume(true).build().train();
        assertEquals(6, r.steps());

        List<Parameter> pa = full.parameters(), pb = second.parameters();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).data(), pb.get(i).data(), 0f, pa.get(i).name());
        assertNotEquals(task.model(5).parameters().get(0).data()[0], pa.get(0).data()[0], "training changed the weights");

        List<JsonNode> la = MetricsLog.read(a.resolve("metrics.jsonl")), lb = MetricsLog.read(b.resolve("metrics.jsonl"));
        assertEquals(la.size(), lb.size(), "each step and eval appears exactly once after resume");
        assertEquals(6 + 2, la.size(), "6 step lines and evals at steps 3 and 6");
        for (int i = 0; i < la.size(); i++) {
            assertEquals(withoutTiming(la.get(i)), withoutTiming(lb.get(i)), "metrics line " + i);
        }
        for (int s = 1; s <= 6; s++) {
            assertEquals(Files.readString(a.resolve("samples/step-" + s + ".jsonl")), Files.readString(b.resolve("samples/step-" + s + ".jsonl")));
        }
    }

    @Test
    void metricsLinesHaveEveryListedKey(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        GrpoConfig c = config("max_steps", 2, "beta", 0.1, "eval_steps", 2, "log_completions_steps", 2);
        task.trainer(c, task.model(1), dir).eval(ToyTask.digits(4, 9, "eval-")).stage("grpo").build().train();
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(3, lines.size());
        for (int i = 0; i < 2; i++) {
            JsonNode l = lines.get(i);
            for (String k : STEP_KEYS) assertTrue(l.has(k), "step line lacks " + k + ": " + l);
            assertEquals(i + 1, l.get("step").asInt());
            assertEquals("grpo", l.get("stage").asText());
            assertTrue(l.get("kl").isNumber() && l.get("kl").asDouble() >= 0, "beta > 0 logs the k3 KL: " + l.get("kl"));
            assertTrue(l.get("entropy").asDouble() > 0);
            assertTrue(l.get("num_tokens").asLong() > 0);
        }
        assertTrue(lines.get(1).get("num_tokens").asLong() > lines.get(0).get("num_tokens").asLong(), "num_tokens is cumulative");
        JsonNode ev = lines.get(2);
        for (String k : EVAL_KEYS) assertTrue(ev.has(k), "eval line lacks " + k + ": " + ev);
        assertEquals(2, ev.get("step").asInt());
        assertTrue(Files.exists(dir.resolve("samples/step-2.jsonl")));
        assertFalse(Files.exists(dir.resolve("samples/step-1.jsonl")));
        assertTrue(Files.isDirectory(dir.resolve("checkpoints/checkpoint-2")), "the last step is always checkpointed");
        assertTrue(Files.exists(dir.resolve("checkpoints/checkpoint-2/model.safetensors")));
        assertTrue(Files.exists(dir.resolve("checkpoints/checkpoint-2/config.json")));
        assertTrue(Files.exists(dir.resolve("checkpoints/checkpoint-2/tokenizer.json")));

        // resuming a finished run changes nothing
        GrpoTrainer.Result again = task.trainer(c, task.model(1), dir).eval(ToyTask.digits(4, 9, "eval-")).stage("grpo").resume(true)
                .build().train();
        assertEquals(2, again.steps());
        assertEquals(3, MetricsLog.read(dir.resolve("metrics.jsonl")).size());
    }

    /**
     * reflection_words: every step line carries completions/reflection_rate, the share of that step's
     * completions (as logged in samples/) containing a phrase at a word start, and the eval line carries
     * it too; without the option there is no such metric.
     */
    @Test
    void reflectionRateIsTheShareOfTheStepsCompletionsWithAReflectionPhrase(@TempDir Path dir) throws Exception {
        ToyTask task = new ToyTask();
        List<String> words = List.of("1", "3", "5", "7");
        GrpoConfig c = config("max_steps", 2, "eval_steps", 2, "log_completions_steps", 1, "reflection_words", words);
        task.trainer(c, task.model(1), dir).eval(ToyTask.digits(4, 9, "eval-")).stage("grpo").build().train();
        Pattern phrase = Pattern.compile("(?<![\\p{L}\\p{N}])[1357]");
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        for (int step = 1; step <= 2; step++) {
            int n = 0, hits = 0;
            for (String line : Files.readAllLines(dir.resolve("samples/step-" + step + ".jsonl"))) {
                String completion = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("completion").asText();
                n++;
                if (phrase.matcher(completion).find()) hits++;
            }
            assertEquals(16, n);
            assertEquals((double) hits / n, lines.get(step - 1).get("completions/reflection_rate").asDouble(), 1e-12, "step " + step);
        }
        double ev = lines.get(2).get("eval/completions/reflection_rate").asDouble();
        assertTrue(ev >= 0 && ev <= 1, lines.get(2).toString());

        Path plain = dir.resolve("plain");
        task.trainer(config("max_steps", 1), task.model(1), plain).stage("grpo").build().train();
        assertFalse(MetricsLog.read(plain.resolve("metrics.jsonl")).getFirst().has("completions/reflection_rate"));
    }

    @Test
    void firstPassUsesStoredOldLogProbsWithRatioExactlyOne(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        List<TrainerListener.Update> updates = new ArrayList<>();
        GrpoConfig c = config("max_steps", 3, "num_iterations", 3);
        task.denseTrainer(c, task.model(2), dir).listener(new TrainerListener() {
            @Override
            public void onUpdate(TrainerListener.Update u) {
                updates.add(u);
            }
        }).build().train();
        assertEquals(9, updates.size());
        boolean moved = false;
        int offPolicyChecked = 0;
        for (TrainerListener.Update u : updates) {
            if (u.pass() == 0) {
                assertEquals(1.0, u.meanRatio(), 0.0, "first pass of step " + u.step() + ": old log-probs are this very policy");
                assertEquals(0.0, u.lowClipRatio() + u.highClipRatio(), 0.0);
            } else if (moved) {
                // once any gradient was non-zero, AdamW's momentum moves the weights at every later update
                assertNotEquals(1.0, u.meanRatio(), "pass " + u.pass() + " of step " + u.step() + " follows an update");
                offPolicyChecked++;
            }
            moved |= u.gradNorm() > 0;
        }
        assertTrue(offPolicyChecked >= 2, "the seed must give some non-zero advantages, checked " + offPolicyChecked);
    }

    @Test
    void laterMiniBatchesAreOffPolicyAgainstStoredLogProbs(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        List<TrainerListener.Update> updates = new ArrayList<>();
        GrpoConfig c = config("max_steps", 3, "num_mini_batches", 2, "prompts_per_step", 8);
        task.denseTrainer(c, task.model(2), dir).listener(new TrainerListener() {
            @Override
            public void onUpdate(TrainerListener.Update u) {
                updates.add(u);
            }
        }).build().train();
        assertEquals(6, updates.size());
        boolean moved = false;
        int checked = 0;
        for (TrainerListener.Update u : updates) {
            if (u.miniBatch() == 0) {
                assertEquals(1.0, u.meanRatio(), 0.0, "step " + u.step() + ": the first update is on-policy");
            } else if (moved) {
                assertNotEquals(1.0, u.meanRatio(), "step " + u.step() + ": the second mini-batch is scored against log-probs "
                        + "stored before the first update");
                checked++;
            }
            moved |= u.gradNorm() > 0;
        }
        assertTrue(checked >= 1, "the seed must give some non-zero advantages");
    }

    /**
     * Accumulating micro-batches (by count or by token budget) gives the big batch's loss and gradient.
     * Compared through one update with adam_epsilon = 1 and lr = 1, where AdamW's first step is
     * g / (|g| + 1) ≈ g for the small gradients here (plain Adam would map every tiny gradient to ±lr and
     * amplify float summation-order noise); tolerance 1e-6 on weights, 1e-5 relative on loss and norm.
     */
    @Test
    void gradientAccumulationMatchesOneBigBatch(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        for (String lossType : List.of("grpo", "dr_grpo", "dapo")) {
            Object[] common = {"max_steps", 1, "loss_type", lossType, "max_grad_norm", 0.0, "adam_epsilon", 1.0, "learning_rate", 1.0,
                    "lr_scheduler", "constant", "seed", 3};
            List<TrainerListener.Update> u = new ArrayList<>();
            TrainerListener rec = new TrainerListener() {
                @Override
                public void onUpdate(TrainerListener.Update x) {
                    u.add(x);
                }
            };
            CausalLM one = task.model(4), acc = task.model(4), budget = task.model(4);
            task.denseTrainer(config(common), one, dir.resolve(lossType + "1")).listener(rec).build().train();
            task.denseTrainer(config(concat(common, "gradient_accumulation_steps", 4)), acc, dir.resolve(lossType + "4")).listener(rec).build().train();
            task.denseTrainer(config(concat(common, "max_tokens_per_micro_batch", 10)), budget, dir.resolve(lossType + "t")).listener(rec).build().train();
            assertEquals(3, u.size());
            assertTrue(u.get(0).gradNorm() > 0, "the seed must give some non-zero advantages");
            for (int k = 1; k < 3; k++) {
                assertEquals(u.get(0).loss(), u.get(k).loss(), 1e-5 * Math.abs(u.get(0).loss()) + 1e-7, lossType + " loss");
                assertEquals(u.get(0).gradNorm(), u.get(k).gradNorm(), 1e-5 * u.get(0).gradNorm(), lossType + " grad norm");
            }
            for (int i = 0; i < one.parameters().size(); i++) {
                float[] x = one.parameters().get(i).data(), y = acc.parameters().get(i).data(), z = budget.parameters().get(i).data();
                for (int k = 0; k < x.length; k++) {
                    assertEquals(x[k], y[k], 1e-6f, lossType + " accumulated " + one.parameters().get(i).name() + "[" + k + "]");
                    assertEquals(x[k], z[k], 1e-6f, lossType + " token budget " + one.parameters().get(i).name() + "[" + k + "]");
                }
            }
        }
    }

    static Object[] concat(Object[] a, Object... b) {
        Object[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void nanStepsAreSkippedAndTheRunStopsKeepingTheLastGoodCheckpoint(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        CausalLM model = task.model(6);
        GrpoConfig c = config("max_steps", 10, "save_steps", 1, "max_non_finite_steps", 2);
        var e = assertThrows(NonFiniteLossException.class, () -> task.trainer(c, model, dir).listener(new TrainerListener() {
            @Override
            public void onStep(long step, Map<String, Object> metrics) {
                if (step == 2) model.finalNorm().data()[0] = Float.NaN;   // corrupts every logit from now on
            }
        }).build().train());
        assertTrue(e.getMessage().contains("2 consecutive steps"), e.getMessage());
        assertTrue(e.getMessage().contains("checkpoint-1"), e.getMessage());
        CheckpointStore store = new CheckpointStore(dir.resolve("checkpoints"), 2);
        assertEquals(1, CheckpointStore.stepOf(store.latest().orElseThrow()), "NaN weights are never checkpointed");
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(4, lines.size());
        assertEquals(2, lines.get(3).get("non_finite_steps").asInt());
        assertTrue(lines.get(3).get("loss").isNull(), "a skipped step has no loss");
    }

    @Test
    void dynamicSamplingTrainsOnlyOnGroupsWithDifferingRewards(@TempDir Path dir) throws Exception {
        ToyTask task = new ToyTask();
        GrpoConfig c = config("max_steps", 2, "dynamic_sampling", true, "max_resample_batches", 4, "log_completions_steps", 1);
        task.trainer(c, task.model(7), dir).build().train();
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        JsonNode first = lines.get(0);
        // at chance level (~1/17) most groups of 4 score all zero, so more batches are drawn
        assertTrue(first.get("dynamic_sampling/batches").asInt() >= 2, first.toString());
        assertTrue(first.get("dynamic_sampling/kept_groups").asInt() <= 4);
        Map<Integer, List<JsonNode>> groups = new HashMap<>();
        for (String line : Files.readAllLines(dir.resolve("samples/step-1.jsonl"))) {
            JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            groups.computeIfAbsent(n.get("group").asInt(), k -> new ArrayList<>()).add(n);
        }
        assertEquals(4 * first.get("dynamic_sampling/batches").asInt(), groups.size());
        int trained = 0;
        for (List<JsonNode> g : groups.values()) {
            boolean same = g.stream().allMatch(n -> n.get("reward").asDouble() == g.get(0).get("reward").asDouble());
            boolean hasAdv = !g.get(0).get("advantage").isNull();
            if (same) assertFalse(hasAdv, "a zero-std group is dropped");
            if (hasAdv) trained++;
        }
        assertEquals(first.get("dynamic_sampling/kept_groups").asInt(), trained);
    }

    @Test
    void maskTruncatedCompletionsTrainsOnlyOnCompletionsThatStopped(@TempDir Path dir) throws Exception {
        ToyTask task = new ToyTask();
        List<TrainerListener.Update> updates = new ArrayList<>();
        GrpoConfig c = config("max_steps", 1, "mask_truncated_completions", true, "max_completion_length", 3, "log_completions_steps", 1,
                "prompts_per_step", 8);
        task.trainer(c, task.model(8), dir).listener(new TrainerListener() {
            @Override
            public void onUpdate(TrainerListener.Update u) {
                updates.add(u);
            }
        }).build().train();
        long stoppedTokens = 0, truncated = 0;
        for (String line : Files.readAllLines(dir.resolve("samples/step-1.jsonl"))) {
            JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
            if (n.get("finish_reason").asText().equals("stop")) stoppedTokens += n.get("length").asLong(); else truncated++;
        }
        assertTrue(truncated > 0 && stoppedTokens > 0, "the seed must give both kinds: truncated " + truncated + ", stopped tokens " + stoppedTokens);
        assertEquals(stoppedTokens, (long) updates.get(0).activeTokens(), "only completions that ended with EOS carry loss");
    }

    @Test
    void startingOverAnExistingRunIsRefused(@TempDir Path dir) {
        ToyTask task = new ToyTask();
        task.trainer(config("max_steps", 1), task.model(1), dir).build().train();
        var e = assertThrows(IllegalStateException.class, () -> task.trainer(config("max_steps", 1), task.model(1), dir).build().train());
        assertTrue(e.getMessage().contains("already holds a run"), e.getMessage());
    }

    static Map<String, JsonNode> withoutTiming(JsonNode n) {
        Map<String, JsonNode> m = new HashMap<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!TIMING.contains(k)) m.put(k, n.get(k));
        }
        return m;
    }
}

package io.r1kit.grpo.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.ColumnTemplate;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PPO on the copy-the-digit toy task: it learns, and resume is exact. */
class PpoTrainerTest {

    static final CharTokenizer TOK = CharTokenizer.fromAlphabet("0123456789=ab", List.of());

    static CausalLM model(long seed) {
        return CausalLM.random(ModelConfig.llama(TOK.vocabSize(), 32, 64, 2, 4, 4).withInitStd(0.1), seed);
    }

    static Dataset digits(int n) {
        SplittableRandom r = new SplittableRandom(1);
        List<Example> xs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String d = String.valueOf(r.nextInt(10));
            xs.add(new Example("t" + i, Map.of("prompt", d, "answer", d)));
        }
        return new Dataset(xs);
    }

    static final class CopyDigit implements RewardFunction {
        public String name() { return "copy"; }

        public List<Double> score(List<Completion> batch) {
            List<Double> out = new ArrayList<>();
            for (Completion c : batch) out.add(c.text().startsWith(c.columnString("answer")) ? 1.0 : 0.0);
            return out;
        }
    }

    static PpoTrainer.Builder trainer(PpoConfig c, CausalLM m, Path out) {
        return PpoTrainer.builder(c).policy(m).tokenizer(TOK).template(new ColumnTemplate("{prompt}=")).train(digits(400))
                .rewards(new CompositeReward(List.of(new CompositeReward.Member("copy", new CopyDigit(), 1.0, Duration.ofSeconds(30)))))
                .outputDir(out);
    }

    static PpoConfig config(Object... kv) {
        Map<String, Object> m = new HashMap<>(Map.of("prompts_per_step", 8, "num_generations", 4, "max_completion_length", 2,
                "max_prompt_length", 8, "learning_rate", 1e-2, "lr_scheduler", "constant", "save_steps", 0, "log_completions_steps", 0,
                "num_ppo_epochs", 2));
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return PpoConfig.of(m);
    }

    /** Required gain of the mean reward, last 20% of steps over the first 20% (chance ≈ 1/17). */
    static final double MARGIN = 0.3;

    @Test
    void rewardRisesOnATriviallyLearnableTask(@TempDir Path dir) {
        PpoTrainer.Result r = trainer(config("max_steps", 60), model(3), dir).build().train();
        assertEquals(60, r.steps());
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        double first = 0, last = 0;
        for (int i = 0; i < 12; i++) first += lines.get(i).get("reward").asDouble() / 12;
        for (int i = 48; i < 60; i++) last += lines.get(i).get("reward").asDouble() / 12;
        System.out.printf("PpoTrainerTest: mean reward first 20%% %.3f, last 20%% %.3f%n", first, last);
        assertTrue(last - first >= MARGIN, "mean reward rose from " + first + " to " + last + ", need +" + MARGIN);
        for (String k : List.of("value_loss", "values/mean", "returns/mean", "kl", "entropy", "loss", "grad_norm")) {
            assertTrue(lines.get(59).get(k).isNumber(), k + " in " + lines.get(59));
        }
    }

    /** Exact resume on the scalar backend (see GrpoTrainerTest for why not the Vector API one). */
    @Test
    void resumeIsBitIdentical(@TempDir Path tmp) {
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            PpoConfig c = config("max_steps", 4, "save_steps", 2);
            CausalLM a = model(5);
            trainer(c, a, tmp.resolve("a")).build().train();
            CausalLM b1 = model(5);
            RuntimeException kill = new RuntimeException("kill");
            assertThrows(RuntimeException.class, () -> trainer(c, b1, tmp.resolve("b")).listener(TrainerListener.onSteps((s, m) -> {
                if (((Number) m.get("step")).longValue() == 3) throw kill;
            })).build().train());
            CausalLM b2 = model(5);
            PpoTrainer t = trainer(c, b2, tmp.resolve("b")).resume(true).build();
            t.train();
            for (int i = 0; i < a.parameters().size(); i++) {
                assertArrayEquals(a.parameters().get(i).data(), b2.parameters().get(i).data(), 0f, a.parameters().get(i).name());
            }
            assertEquals(MetricsLog.read(tmp.resolve("a/metrics.jsonl")).size(), MetricsLog.read(tmp.resolve("b/metrics.jsonl")).size());
        }
    }

    @Test
    void separateValueModelNeedsABackbone(@TempDir Path dir) {
        var e = assertThrows(IllegalStateException.class, () -> trainer(config("value_model", "separate"), model(1), dir).build());
        assertTrue(e.getMessage().contains("valueBackbone"), e.getMessage());
        // a smaller separate value model trains too
        CausalLM small = CausalLM.random(ModelConfig.llama(TOK.vocabSize(), 16, 32, 1, 2, 2), 9);
        PpoTrainer.Result r = trainer(config("value_model", "separate", "max_steps", 2), model(1), dir).valueBackbone(small).build().train();
        assertEquals(2, r.steps());
    }

    /** log_completions_steps writes samples/step-N.jsonl as GRPO does (same fields, so runs compare). */
    @Test
    void logCompletionsStepsWritesSamples(@TempDir Path dir) throws Exception {
        trainer(config("max_steps", 3, "log_completions_steps", 2), model(3), dir).build().train();
        assertTrue(java.nio.file.Files.exists(dir.resolve("samples/step-2.jsonl")));
        assertTrue(!java.nio.file.Files.exists(dir.resolve("samples/step-1.jsonl")) && !java.nio.file.Files.exists(dir.resolve("samples/step-3.jsonl")));
        List<String> lines = java.nio.file.Files.readAllLines(dir.resolve("samples/step-2.jsonl"));
        assertEquals(8 * 4, lines.size(), "prompts_per_step × num_generations");
        JsonNode first = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(0));
        for (String k : List.of("step", "group", "example_id", "prompt", "completion", "reward", "rewards", "advantage", "length",
                "finish_reason", "correct")) {
            assertTrue(first.has(k), k + " in " + first);
        }
        assertEquals(2, first.get("step").asInt());
        assertTrue(first.get("rewards").has("copy"));
    }
}

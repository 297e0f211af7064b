package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Example;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.generate.FinishReason;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.SourceRoutedReward;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The R1 eval summary computed from scored samples, by hand. */
class StageEvalTest {

    private static RewardFunction named(String name) {
        return new RewardFunction() {
            @Override public String name() { return name; }
            @Override public List<Double> score(List<Completion> b) { throw new UnsupportedOperationException(); }
        };
    }

    private static Rollouts.Sample sample(String source, int len, double reward, Double acc, Double lang, Double rm, boolean formatted) {
        Example e = new Example("x", Map.of("prompt", "p", "source", source));
        return new Rollouts.Sample(0, new Rollouts.Prompt(e, "p", new int[] {1}), new int[len], new float[len], "t", FinishReason.STOP,
                reward, new Double[] {acc, lang, rm}, acc != null && acc >= 1.0, formatted);
    }

    @Test
    void ratesAreOverTheSamplesEachMetricAppliesTo() {
        try (CompositeReward rewards = new CompositeReward(List.of(
                new CompositeReward.Member("accuracy", new SourceRoutedReward(named("accuracy"), Set.of("reasoning"), "source"), 1, Duration.ofSeconds(1)),
                new CompositeReward.Member("language_consistency", named("language_consistency"), 0, Duration.ofSeconds(1)),
                new CompositeReward.Member("helpfulness", new SourceRoutedReward(named("reward_model"), Set.of("general"), "source"), 1, Duration.ofSeconds(1))))) {
            List<Rollouts.Sample> s = new ArrayList<>();
            // 3 reasoning prompts × 2 samples, 1 general prompt × 2 samples (prompt-major)
            s.add(sample("reasoning", 10, 1.0, 1.0, 1.0, null, true));
            s.add(sample("reasoning", 20, 0.0, 0.0, 0.5, null, true));
            s.add(sample("reasoning", 30, 1.0, 1.0, 0.96, null, false));
            s.add(sample("reasoning", 40, 1.0, 1.0, null, null, true));
            s.add(sample("reasoning", 10, 0.0, 0.0, 0.9, null, false));
            s.add(sample("reasoning", 10, 0.0, 0.0, 1.0, null, true));
            s.add(sample("general", 4, 0.3, null, null, 0.3, false));
            s.add(sample("general", 6, -0.1, null, null, -0.1, false));
            Evaluator.Result r = new Evaluator.Result(Map.of("num_examples", 4.0, "accuracy", 3.0 / 8), s);
            Map<String, Object> m = StageEval.summary(r, rewards, "accuracy", 0.95, 2);
            assertEquals(3.0 / 6, (double) m.get("accuracy"), 1e-12);          // general samples are not counted as wrong
            assertEquals(4.0 / 6, (double) m.get("format_rate"), 1e-12);
            assertEquals(130.0 / 8, (double) m.get("mean_length"), 1e-12);
            assertEquals(4, m.get("n"));
            assertEquals(3, m.get("n_checked"));
            assertEquals(2, m.get("num_samples"));
            assertEquals((1.0 + 0.5 + 0.96 + 0.9 + 1.0) / 5, (double) m.get("language_consistency"), 1e-12);
            assertEquals(2.0 / 5, (double) m.get("language_mixing_rate"), 1e-12);   // 0.5 and 0.9 are below 0.95
            assertEquals(0.1, (double) m.get("reward_model_score"), 1e-12);
            assertEquals(3, m.get("source/reasoning/n"));
            assertEquals(1, m.get("source/general/n"));
            assertEquals(0.1, (double) m.get("source/general/reward"), 1e-12);
            assertEquals(3.0 / 8, (double) m.get("all/accuracy"), 1e-12);       // the evaluator's, kept under all/
        }
    }

    @Test
    void withoutLanguageOrRewardModelRewardsThoseKeysAreAbsent() {
        try (CompositeReward rewards = new CompositeReward(List.of(
                new CompositeReward.Member("accuracy", named("accuracy"), 1, Duration.ofSeconds(1))))) {
            Example e = new Example("x", Map.of("prompt", "p"));
            Rollouts.Sample one = new Rollouts.Sample(0, new Rollouts.Prompt(e, "p", new int[] {1}), new int[3], new float[3], "t",
                    FinishReason.STOP, 1.0, new Double[] {1.0}, true, true);
            Map<String, Object> m = StageEval.summary(new Evaluator.Result(Map.of(), List.of(one)), rewards, "accuracy", 0.95, 1);
            assertEquals(1.0, (double) m.get("accuracy"), 0);
            assertFalse(m.containsKey("language_consistency"));
            assertFalse(m.containsKey("reward_model_score"));
            assertFalse(m.containsKey("source/x/n"));
        }
    }
}

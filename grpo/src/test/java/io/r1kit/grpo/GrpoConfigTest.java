package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.grpo.GrpoConfig.LrScheduler;
import io.r1kit.grpo.GrpoConfig.ScaleRewards;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrpoConfigTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        GrpoConfig c = GrpoConfig.defaults();
        assertEquals(8, c.numGenerations());
        assertEquals(ScaleRewards.GROUP, c.scaleRewards());
        assertEquals(LossType.GRPO, c.lossType());
        assertEquals(0.2, c.epsilon());
        assertEquals(0.2, c.epsilonHigh(), "unset epsilon_high means epsilon");
        assertEquals(0.0, c.beta());
        assertEquals(1, c.numIterations());
        assertEquals(LrScheduler.LINEAR, c.lrScheduler());
        assertEquals(1e-6, c.learningRate());
        assertEquals(false, c.maskTruncatedCompletions());
        assertEquals(false, c.dynamicSampling());
        assertEquals(42L, c.seed());
    }

    @Test
    void bindsSnakeCaseNamesAndLowerCaseEnums() {
        GrpoConfig c = GrpoConfig.of(Map.of("num_generations", 4, "loss_type", "dr_grpo", "scale_rewards", "none",
                "epsilon_high", 0.28, "lr_scheduler", "cosine", "mask_truncated_completions", true));
        assertEquals(4, c.numGenerations());
        assertEquals(LossType.DR_GRPO, c.lossType());
        assertEquals(ScaleRewards.NONE, c.scaleRewards());
        assertEquals(0.28, c.epsilonHigh());
        assertEquals(LrScheduler.COSINE, c.lrScheduler());
        assertTrue(c.maskTruncatedCompletions());
        Map<String, Object> m = c.toMap();
        assertEquals("dr_grpo", m.get("loss_type"));
        assertEquals(4, m.get("num_generations"));
        assertEquals(c, GrpoConfig.of(m), "toMap/of round-trip");
    }

    /** Bound the way the pipeline's StrictYaml binds run configs (snake_case, strict, no scalar coercion). */
    @Test
    void bindsFromYamlWithThePipelinesStrictSettings() throws Exception {
        var binder = com.fasterxml.jackson.databind.json.JsonMapper.builder()
                .propertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE)
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(com.fasterxml.jackson.databind.MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
                .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        String yaml = """
                num_generations: 16
                loss_type: dapo
                scale_rewards: batch
                epsilon: 0.2
                epsilon_high: 0.28
                beta: 0
                learning_rate: 1.0e-6
                lr_scheduler: cosine
                dynamic_sampling: true
                seed: 7
                """;
        var tree = new com.fasterxml.jackson.dataformat.yaml.YAMLMapper().readTree(yaml);
        GrpoConfig c = binder.treeToValue(tree, GrpoConfig.class);
        assertEquals(16, c.numGenerations());
        assertEquals(LossType.DAPO, c.lossType());
        assertEquals(ScaleRewards.BATCH, c.scaleRewards());
        assertEquals(0.28, c.epsilonHigh());
        assertEquals(0.0, c.beta());
        assertEquals(LrScheduler.COSINE, c.lrScheduler());
        assertTrue(c.dynamicSampling());
        assertEquals(7L, c.seed());
        assertEquals(8, c.promptsPerStep(), "absent keys take their defaults");
    }

    @Test
    void validationMessagesNameTheKey() {
        assertMessage("num_generations must be ≥ 2", Map.of("num_generations", 1));
        assertMessage("need 0 ≤ epsilon ≤ epsilon_high, got 0.3, 0.2", Map.of("epsilon", 0.3, "epsilon_high", 0.2));
        assertMessage("epsilon must be < 1", Map.of("epsilon", 1.0, "epsilon_high", 1.0));
        assertMessage("loss_type: 'ppo' is not one of [grpo, bnpo, dr_grpo, dapo, cispo]", Map.of("loss_type", "ppo"));
        assertMessage("beta must be ≥ 0", Map.of("beta", -0.1));
        assertMessage("Unrecognized field \"num_generation\"", Map.of("num_generation", 4));
        assertMessage("delta must be > 1 + epsilon_high (1.28)", Map.of("delta", 1.1, "epsilon_high", 0.28));
        assertMessage("top_entropy_quantile must be in (0, 1]", Map.of("top_entropy_quantile", 0.0));
        assertMessage("max_completion_length must be ≥ 1", Map.of("max_completion_length", 0));
        assertMessage("entropy_coef must be finite", Map.of("entropy_coef", Double.POSITIVE_INFINITY));
        assertMessage("kl_in_reward: true needs beta > 0", Map.of("kl_in_reward", true));
        assertMessage("advantage_estimator: 'ppo' is not one of [grpo, rloo, reinforce_pp, reinforce_pp_baseline]",
                Map.of("advantage_estimator", "ppo"));
        assertMessage("rollout_correction_cap must be ≥ 1", Map.of("rollout_correction_cap", 0.5));
    }

    /**
     * Every numeric bound, at its edge: the last valid value is accepted and the first invalid one is
     * refused with a message naming the key (a bound that is off by one, or a check that is missing,
     * fails here).
     */
    @Test
    void everyBoundAcceptsItsEdgeAndRefusesJustBeyond() {
        Object[][] edges = {
            // key, last valid, first invalid
            {"prompts_per_step", 1, 0}, {"num_generations", 2, 1}, {"max_prompt_length", 1, 0},
            {"temperature", 1e-6, 0.0}, {"top_p", 1.0, 1.0001}, {"top_k", 0, -1}, {"max_resample_batches", 0, -1},
            {"num_iterations", 1, 0}, {"num_mini_batches", 1, 0}, {"gradient_accumulation_steps", 1, 0},
            {"max_tokens_per_micro_batch", 0, -1}, {"learning_rate", 0.0, -1e-9}, {"warmup_ratio", 1.0, 1.0001},
            {"weight_decay", 0.0, -1e-9}, {"max_grad_norm", 0.0, -1e-9}, {"adam_beta1", 0.0, -1e-9},
            {"adam_beta2", 0.0, -1e-9}, {"adam_epsilon", 0.0, -1e-12}, {"max_steps", 1, 0}, {"num_train_epochs", 1, 0},
            {"save_steps", 0, -1}, {"save_total_limit", 1, 0}, {"eval_steps", 0, -1}, {"log_completions_steps", 0, -1},
            {"max_non_finite_steps", 1, 0}, {"eval_num_samples", 1, 0}, {"eval_temperature", 0.0, -1e-9},
            {"eval_max_examples", 0, -1}, {"rollout_correction_cap", 1.0, 0.9999},
        };
        for (Object[] e : edges) {
            String key = (String) e[0];
            assertDoesNotThrow(() -> GrpoConfig.of(Map.of(key, e[1])), key + " = " + e[1] + " is valid");
            assertMessage(key, Map.of(key, e[2]));
        }
        assertDoesNotThrow(() -> GrpoConfig.of(Map.of("adam_beta1", 0.999999, "adam_beta2", 0.999999)));
        assertMessage("adam_beta1", Map.of("adam_beta1", 1.0));
        assertMessage("adam_beta2", Map.of("adam_beta2", 1.0));
        assertMessage("top_p", Map.of("top_p", 0.0));
        assertMessage("warmup_ratio", Map.of("warmup_ratio", -1e-9));
        assertDoesNotThrow(() -> GrpoConfig.of(Map.of("max_steps", -1)), "-1: run num_train_epochs");
        assertMessage("max_steps", Map.of("max_steps", -2));
        // num_mini_batches may equal the completions of a step, not exceed them
        assertDoesNotThrow(() -> GrpoConfig.of(Map.of("prompts_per_step", 2, "num_generations", 2, "num_mini_batches", 4)));
        assertMessage("num_mini_batches (5)", Map.of("prompts_per_step", 2, "num_generations", 2, "num_mini_batches", 5));
        // several greedy samples are identical: refused; one greedy sample is fine
        assertDoesNotThrow(() -> GrpoConfig.of(Map.of("eval_num_samples", 1, "eval_temperature", 0.0)));
        assertMessage("eval_num_samples = 2 needs eval_temperature > 0", Map.of("eval_num_samples", 2, "eval_temperature", 0.0));
        assertMessage("beta must be finite", Map.of("beta", Double.POSITIVE_INFINITY));
        assertMessage("delta must be finite", Map.of("delta", Double.POSITIVE_INFINITY));
        assertMessage("temperature", Map.of("temperature", Double.POSITIVE_INFINITY));
        assertMessage("learning_rate", Map.of("learning_rate", Double.NaN));
        assertMessage("rollout_correction_cap", Map.of("rollout_correction_cap", Double.POSITIVE_INFINITY));
        assertDoesNotThrow(() -> GrpoConfig.of(Map.of("loss_type", "cispo", "epsilon_high", 1.0)));
        assertMessage("epsilon_high must be ≥ 1", Map.of("loss_type", "cispo", "epsilon_high", 0.99));
    }

    private static void assertMessage(String expectedPart, Map<String, ?> values) {
        var e = assertThrows(IllegalArgumentException.class, () -> GrpoConfig.of(values));
        assertTrue(e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' should contain '" + expectedPart + "'");
    }

    /** epsilon_high left unset follows epsilon through with(...); one set explicitly is kept. */
    @Test
    void withKeepsAnUnsetEpsilonHighFollowingEpsilon() {
        GrpoConfig d = GrpoConfig.defaults();
        GrpoConfig wider = d.with(Map.of("epsilon", 0.3));
        assertEquals(0.3, wider.epsilon());
        assertEquals(0.3, wider.epsilonHigh(), "symmetric clip, as when epsilon: 0.3 is written alone");
        GrpoConfig narrower = d.with(Map.of("epsilon", 0.1));
        assertEquals(0.1, narrower.epsilonHigh(), "not silently asymmetric");
        GrpoConfig dapo = GrpoConfig.of(Map.of("epsilon_high", 0.28));
        assertEquals(0.28, dapo.with(Map.of("epsilon", 0.1)).epsilonHigh(), "an explicit clip-higher is kept");
        assertEquals(0.28, dapo.with(Map.of("beta", 0.1)).epsilonHigh());
    }
}

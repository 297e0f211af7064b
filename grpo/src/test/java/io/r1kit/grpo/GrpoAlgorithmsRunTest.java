package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two GRPO steps on the toy task with each new option: the run trains (finite loss, weights move)
 * and logs the trainer/sampler mismatch; the mismatch metrics are 1 / 0 up to the decode-vs-forward
 * rounding when the sampler is the policy, and far from it when the sampler is perturbed.
 */
class GrpoAlgorithmsRunTest {

    static List<JsonNode> run(Path dir, Object... kv) {
        ToyTask task = new ToyTask();
        CausalLM m = task.model(4);
        float before = m.parameters().get(0).data()[5];
        task.denseTrainer(GrpoTrainerTest.config(kv), m, dir).build().train();
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        for (JsonNode l : lines) {
            assertTrue(Double.isFinite(l.get("loss").asDouble()), l.toString());
            assertEquals(0, l.get("non_finite_steps").asInt());
            for (String k : List.of("sampling/importance_sampling_ratio/min", "sampling/importance_sampling_ratio/mean",
                    "sampling/importance_sampling_ratio/max", "sampling/sampling_logp_difference/mean", "sampling/sampling_logp_difference/max")) {
                assertTrue(l.get(k).isNumber(), k + " in " + l);
            }
        }
        boolean moved = false;
        for (Parameter p : m.parameters()) if (p.data()[5] != task.model(4).parameters().get(m.parameters().indexOf(p)).data()[5]) moved = true;
        assertTrue(moved || before != m.parameters().get(0).data()[5], "training changed the weights");
        return lines;
    }

    @Test
    void everyNewOptionRuns(@TempDir Path dir) {
        Object[][] options = {
                {"importance_sampling_level", "sequence"},
                {"loss_type", "cispo", "epsilon_high", 5.0},
                {"advantage_estimator", "rloo"},
                {"advantage_estimator", "reinforce_pp"},
                {"advantage_estimator", "reinforce_pp", "beta", 0.05, "kl_in_reward", true, "num_mini_batches", 2},
                {"advantage_estimator", "reinforce_pp_baseline"},
                {"beta", 0.05, "kl_estimator", "k2"},
                {"beta", 0.05, "kl_estimator", "low_var_kl", "kl_in_reward", true},
                {"delta", 1.5},
                {"top_entropy_quantile", 0.2, "entropy_coef", 0.01},
                {"rollout_correction", "tis", "num_mini_batches", 2},
                {"rollout_correction", "mask", "rollout_correction_level", "sequence", "rollout_correction_cap", 1.5},
                {"multi_objective_aggregation", "normalize_then_sum"},
        };
        for (int i = 0; i < options.length; i++) {
            Object[] kv = new Object[options[i].length + 2];
            System.arraycopy(options[i], 0, kv, 0, options[i].length);
            kv[kv.length - 2] = "max_steps";
            kv[kv.length - 1] = 2;
            run(dir.resolve("run" + i), kv);
        }
    }

    @Test
    void mismatchMetricsAreOneAndZeroOnPolicyAndMoveWhenTheSamplerIsPerturbed(@TempDir Path dir) {
        List<JsonNode> same = run(dir.resolve("same"), "max_steps", 1);
        JsonNode s = same.get(0);
        // the sampler's decode path and the trainer's full forward round differently (GeneratorTest: ~1e-6)
        assertEquals(1.0, s.get("sampling/importance_sampling_ratio/mean").asDouble(), 1e-4, s.toString());
        assertEquals(1.0, s.get("sampling/importance_sampling_ratio/min").asDouble(), 1e-4);
        assertEquals(1.0, s.get("sampling/importance_sampling_ratio/max").asDouble(), 1e-4);
        assertEquals(0.0, s.get("sampling/sampling_logp_difference/max").asDouble(), 1e-4);

        ToyTask task = new ToyTask();
        CausalLM sampler = task.model(4);
        SplittableRandom rnd = new SplittableRandom(9);
        for (Parameter p : sampler.parameters()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] += (float) (0.05 * rnd.nextGaussian());
        }
        task.denseTrainer(GrpoTrainerTest.config("max_steps", 1, "rollout_correction", "tis"), task.model(4), dir.resolve("perturbed"))
                .sampler(sampler).build().train();
        JsonNode p = MetricsLog.read(dir.resolve("perturbed/metrics.jsonl")).get(0);
        assertTrue(p.get("sampling/sampling_logp_difference/max").asDouble() > 1e-2, p.toString());
        assertTrue(p.get("sampling/importance_sampling_ratio/max").asDouble() > 1.01
                || p.get("sampling/importance_sampling_ratio/min").asDouble() < 0.99, p.toString());
    }
}

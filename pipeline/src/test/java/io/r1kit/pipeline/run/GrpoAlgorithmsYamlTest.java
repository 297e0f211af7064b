package io.r1kit.pipeline.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The new GRPO options from YAML: strict validation knows every key (and names a misspelt one),
 * and two-step runs of a tiny scratch model with them (REINFORCE++ with the KL in the reward among them)
 * train and log the mismatch metrics.
 */
class GrpoAlgorithmsYamlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String config(String options) {
        return """
                name: algos
                seed: 3
                device: cpu
                template: toy
                data:
                  train:  {generate: {task: arithmetic, n: 16, seed: 2, params: {part: train}}}
                tokenizer: {char: {}}
                model:
                  scratch: {hidden_size: 16, intermediate_size: 32, num_layers: 1, num_heads: 2, max_positions: 96}
                rewards:
                  - {name: accuracy, weight: 1.0}
                  - {name: format, weight: 0.5}
                stages:
                  - name: rl
                    type: grpo
                    data: train
                    prompts_per_step: 2
                    num_generations: 3
                    max_completion_length: 8
                    learning_rate: 0.001
                    max_steps: 2
                    save_steps: 0
                    log_completions_steps: 0
                """ + options.indent(4);
    }

    static final String GSPO_AND_FRIENDS = """
            importance_sampling_level: sequence
            advantage_estimator: rloo
            beta: 0.05
            kl_estimator: low_var_kl
            kl_in_reward: true
            delta: 1.5
            top_entropy_quantile: 0.5
            entropy_coef: 0.01
            rollout_correction: tis
            rollout_correction_level: sequence
            rollout_correction_cap: 3.0
            multi_objective_aggregation: normalize_then_sum
            num_mini_batches: 2
            """;

    static final String CISPO = """
            loss_type: cispo
            epsilon_high: 5.0
            advantage_estimator: reinforce_pp_baseline
            rollout_correction: mask
            num_iterations: 2
            """;

    /** REINFORCE++ with its per-token KL penalty in the reward (per-token advantages). */
    static final String REINFORCE_PP_KL = """
            advantage_estimator: reinforce_pp
            beta: 0.05
            kl_in_reward: true
            num_iterations: 2
            """;

    @Test
    void everyNewKeyValidatesAndAMisspeltOneIsNamed(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, config(GSPO_AND_FRIENDS));
        Result ok = Cli.run("validate", cfg.toString());
        assertEquals(0, ok.exit(), ok.err());
        Files.writeString(cfg, config(GSPO_AND_FRIENDS.replace("rollout_correction_cap", "rollout_corection_cap")));
        Result bad = Cli.run("validate", cfg.toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("rollout_corection_cap") && bad.err().contains("Did you mean 'rollout_correction_cap'?"), bad.err());
        Files.writeString(cfg, config("loss_type: cispo\n"));
        Result cispo = Cli.run("validate", cfg.toString());
        assertEquals(2, cispo.exit());
        assertTrue(cispo.err().contains("epsilon_high must be ≥ 1"), cispo.err());
    }

    @Test
    void twoStepRunsWithTheNewOptions(@TempDir Path tmp) throws Exception {
        for (String options : List.of(GSPO_AND_FRIENDS, CISPO, REINFORCE_PP_KL)) {
            Path dir = Files.createTempDirectory(tmp, "run");
            Path cfg = dir.resolve("c.yaml");
            Files.writeString(cfg, config(options));
            Result r = Cli.run("run", cfg.toString(), "--run-dir", dir.resolve("run").toString());
            assertEquals(0, r.exit(), r.err());
            List<JsonNode> lines = Files.readAllLines(dir.resolve("run/metrics.jsonl")).stream().filter(l -> !l.isBlank())
                    .map(l -> { try { return JSON.readTree(l); } catch (Exception e) { throw new RuntimeException(e); } })
                    .filter(n -> n.has("reward")).toList();
            assertEquals(2, lines.size());
            for (JsonNode n : lines) {
                assertTrue(Double.isFinite(n.get("loss").asDouble()), n.toString());
                assertTrue(n.get("sampling/importance_sampling_ratio/mean").isNumber(), n.toString());
                assertTrue(n.get("rewards/unscorable_frac").isNumber(), n.toString());
            }
        }
    }
}

package io.r1kit.pipeline.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code r1kit ablate} on a tiny base config: variants × seeds, shared stages run once, summary and plots. */
class AblationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String BASE = """
            name: tiny
            seed: 3
            device: cpu
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 200, seed: 1}}
              train:  {generate: {task: arithmetic, n: 20, seed: 2, params: {part: train}}}
              test:   {generate: {task: arithmetic, n: 4, seed: 3, params: {part: test}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 96}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 96, batch_size: 4, max_steps: 3, logging_steps: 1}
              - name: r1_zero
                type: grpo
                data: train
                prompts_per_step: 2
                num_generations: 2
                max_completion_length: 8
                learning_rate: 0.001
                max_steps: 2
                log_completions_steps: 0
              - {name: final_eval, type: eval, data: test, max_completion_length: 8}
            """;

    private static final String ABLATION = """
            base: base.yaml
            seeds: [1, 2]
            seed_keys: [stages.r1_zero.seed]
            grid:
              stages.r1_zero.loss_type: [grpo, dr_grpo]
            variants:
              - {name: beta0, set: ["stages.r1_zero.beta=0"]}
              - {name: beta0.04, set: ["stages.r1_zero.beta=0.04"]}
            curves: [reward, kl, completions/mean_length_incorrect]
            parallel: 1
            """;


    private static Result cli(String... args) {
        return Cli.run(args);
    }

    @Test
    void gridTimesVariantsTimesSeedsWithSharedPretrainingSummaryAndPlots(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("base.yaml"), BASE);
        Path file = tmp.resolve("loss.yaml");
        Files.writeString(file, ABLATION);
        Path root = tmp.resolve("out");

        Result dry = cli("ablate", file.toString(), "--run-dir", root.toString(), "--dry-run");
        assertEquals(0, dry.exit(), dry.err());
        assertEquals(8, dry.out().lines().count(), "2 variants × 2 grid values × 2 seeds:\n" + dry.out());
        assertFalse(Files.exists(root.resolve("beta0,loss_type=grpo")), "a dry run runs nothing");

        // the documented small form: one seed
        Result r = cli("ablate", file.toString(), "--run-dir", root.toString(), "--set", "seeds=[1]",
                "--set", "variants=[{name: beta0, set: [stages.r1_zero.beta=0]}]");
        assertEquals(0, r.exit(), r.err());
        Path first = root.resolve("beta0,loss_type=grpo/seed-1"), second = root.resolve("beta0,loss_type=dr_grpo/seed-1");
        for (Path run : List.of(first, second)) {
            assertTrue(Files.exists(run.resolve("eval/final_eval.json")), "missing eval in " + run);
            assertTrue(Files.exists(run.resolve("checkpoints/r1_zero/checkpoint-2/model.safetensors")));
        }
        // pretraining ran once: the second run borrowed it and starts GRPO from the first run's model
        JsonNode marker = JSON.readTree(second.resolve("stages/pretrain.json").toFile());
        assertEquals(first.toString(), marker.get("borrowed_from").asText());
        assertFalse(Files.exists(second.resolve("checkpoints/pretrain")), "the borrowed stage did not run again");
        assertTrue(JSON.readTree(second.resolve("stages/r1_zero.json").toFile()).get("input_model").asText()
                .startsWith(first.resolve("checkpoints/pretrain").toString()));
        long pretrainLines = Files.readAllLines(second.resolve("metrics.jsonl")).stream().filter(l -> l.contains("\"stage\":\"pretrain\"")).count();
        assertEquals(3, pretrainLines, "the borrowed stage's metrics lines are copied once");

        JsonNode summary = JSON.readTree(root.resolve("ablation.json").toFile());
        assertEquals(2, summary.get("variants").size());
        assertEquals("beta0,loss_type=grpo", summary.get("variants").get(0).get("variant").asText());
        assertEquals(2.0, summary.get("variants").get(1).get("steps").asDouble());
        String md = Files.readString(root.resolve("ablation.md"));
        assertTrue(md.contains("| beta0,loss_type=dr_grpo |"), md);
        assertTrue(Files.exists(root.resolve("plots/reward.png")));
        assertTrue(Files.readString(root.resolve("report.html")).contains("window.R1KIT_DATA"), "the ablation's self-contained page");
        assertTrue(Files.exists(root.resolve("plots/completions_mean_length_incorrect.png")));
        assertFalse(Files.exists(root.resolve("plots/kl.png")), "kl is NaN without beta: no empty plot");

        // rerunning finds every run finished
        Result again = cli("ablate", file.toString(), "--run-dir", root.toString(), "--set", "seeds=[1]",
                "--set", "variants=[{name: beta0, set: [stages.r1_zero.beta=0]}]");
        assertEquals(0, again.exit(), again.err());
    }

    @Test
    void aBadOverrideInOneVariantStopsBeforeAnyRun(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("base.yaml"), BASE);
        Path file = tmp.resolve("bad.yaml");
        Files.writeString(file, ABLATION.replace("stages.r1_zero.beta=0.04", "stages.r1_zero.betta=0.04"));
        Path root = tmp.resolve("out");
        Result r = cli("ablate", file.toString(), "--run-dir", root.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("variant 'beta0.04,loss_type=grpo'") && r.err().contains("Did you mean 'beta'?"), r.err());
        assertFalse(Files.exists(root.resolve("beta0,loss_type=grpo")), "nothing ran");
    }
}

package io.r1kit.pipeline.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.hf.HfJson;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora:} from YAML: a short GRPO run of a tiny scratch model trains adapters (PEFT layout in
 * its checkpoints; the entropy bonus gives them a gradient even when the untrained model earns no
 * reward), the eval stage after it loads them merged, {@code bin/r1kit merge} writes the same full
 * model, and misplaced or wrong keys are refused with their location.
 */
class LoraYamlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String config(String lora, String extraStage) {
        return """
                name: lora
                seed: 3
                device: cpu
                template: toy
                data:
                  train:  {generate: {task: arithmetic, n: 16, seed: 2, params: {part: train}}}
                  test:   {generate: {task: arithmetic, n: 4, seed: 3, params: {part: test}}}
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
                    learning_rate: 0.01
                    beta: 0.05
                    entropy_coef: 0.05
                    max_steps: 3
                    save_steps: 0
                    log_completions_steps: 0
                """ + lora.indent(4) + extraStage;
    }

    static final String EVAL = """
              - name: after
                type: eval
                data: test
                max_completion_length: 8
            """;

    @Test
    void grpoWithLoraFromYamlTrainsAdaptersThatLoadAndMergeAsTheFullModel(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml"), run = tmp.resolve("run");
        Files.writeString(cfg, config("lora: {r: 4, lora_alpha: 8, target_modules: [q_proj, v_proj, up_proj]}\n", EVAL));
        Result r = Cli.run("run", cfg.toString(), "--run-dir", run.toString());
        assertEquals(0, r.exit(), r.err());

        Path ck = run.resolve("checkpoints/rl/checkpoint-3");
        JsonNode ac = HfJson.read(ck.resolve("adapter_config.json"));
        assertEquals(4, ac.get("r").asInt());
        assertEquals("[\"q_proj\",\"v_proj\",\"up_proj\"]", ac.get("target_modules").toString());
        Path base = Path.of(ac.get("base_model_name_or_path").asText());
        assertTrue(Files.isRegularFile(base.resolve("model.safetensors")), "the adapters name their base: " + base);
        assertFalse(Files.exists(ck.resolve("model.safetensors")));
        assertTrue(Files.exists(ck.resolve("tokenizer.json")), "the adapter directory carries the tokenizer for the next stage");

        List<JsonNode> steps = Files.readAllLines(run.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> { try { return JSON.readTree(l); } catch (Exception e) { throw new RuntimeException(e); } })
                .filter(n -> n.has("reward")).toList();
        assertEquals(3, steps.size());
        assertEquals(0.0, steps.get(0).get("kl").asDouble(), 0.0, "B = 0 at step 1: the policy is its frozen base");
        assertTrue(Files.isRegularFile(run.resolve("eval/after.json")), "the eval stage loaded the adapter checkpoint");

        Path merged = tmp.resolve("merged");
        Result m = Cli.run("merge", "--model", base.toString(), "--adapter", ck.toString(), "--out", merged.toString());
        assertEquals(0, m.exit(), m.err());
        assertTrue(Files.isRegularFile(merged.resolve("config.json")) && Files.isRegularFile(merged.resolve("tokenizer.json")));
        CausalLM full = CausalLM.load(merged), viaAdapterDir = CausalLM.load(ck), b = CausalLM.load(base);
        for (int i = 0; i < full.parameters().size(); i++) {
            assertArrayEquals(viaAdapterDir.parameters().get(i).data(), full.parameters().get(i).data(), full.parameters().get(i).name());
        }
        assertFalse(java.util.Arrays.equals(b.layers().get(0).qProj().data(), full.layers().get(0).qProj().data()), "q_proj was adapted");
        assertArrayEquals(b.layers().get(0).kProj().data(), full.layers().get(0).kProj().data(), "k_proj was not targeted");
    }

    @Test
    void misplacedOrWrongLoraKeysAreRefusedWithTheirLocation(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, config("lora: {}\n", EVAL));
        Result ok = Cli.run("validate", cfg.toString());
        assertEquals(0, ok.exit(), ok.err());

        Files.writeString(cfg, config("lora: {r: 4, target_modules: [lm_head]}\n", ""));
        Result bad = Cli.run("validate", cfg.toString());
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("lm_head") && bad.err().contains("c.yaml"), bad.err());

        Files.writeString(cfg, config("lora: {rank: 4}\n", ""));
        Result typo = Cli.run("validate", cfg.toString());
        assertEquals(2, typo.exit());
        assertTrue(typo.err().contains("rank"), typo.err());

        Files.writeString(cfg, config("", EVAL + "    lora: {}\n"));
        Result onEval = Cli.run("validate", cfg.toString());
        assertEquals(2, onEval.exit());
        assertTrue(onEval.err().contains("'lora' applies to sft, pretrain, grpo and ppo stages"), onEval.err());
    }
}

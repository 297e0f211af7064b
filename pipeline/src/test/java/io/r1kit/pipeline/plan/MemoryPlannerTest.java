package io.r1kit.pipeline.plan;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.ModelConfig;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.Pipeline;
import io.r1kit.pipeline.testing.Cli;
import io.r1kit.pipeline.testing.Cli.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code r1kit plan} and the check before a run: items per stage, options taken into account, the refusal and its message. */
class MemoryPlannerTest {
    static final String CONFIG = """
            name: plan-test
            seed: 4
            device: cpu
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 60, seed: 1}}
              train:  {generate: {task: arithmetic, n: 20, seed: 2, params: {part: train}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: HIDDEN, intermediate_size: FFN, num_layers: LAYERS, num_heads: 4, max_positions: 256}
            rewards:
              - {name: accuracy, weight: 1.0}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 256, batch_size: 8, max_steps: 1, CKPT}
              - {name: r1_zero, type: grpo, data: train, prompts_per_step: 2, num_generations: 4, max_prompt_length: 64,
                 max_completion_length: 32, max_steps: 1, beta: 0.04}
            """;

    static Path write(Path tmp, String name, int hidden, int ffn, int layers, boolean ckpt) throws Exception {
        Path f = tmp.resolve(name + ".yaml");
        Files.writeString(f, CONFIG.replace("HIDDEN", "" + hidden).replace("FFN", "" + ffn).replace("LAYERS", "" + layers)
                .replace("CKPT", "gradient_checkpointing: " + ckpt).replace("plan-test", name));
        return f;
    }

    @Test
    void plansEveryStageWithItsOptions(@TempDir Path tmp) throws Exception {
        List<StagePlan> plain = MemoryPlanner.plan(Pipeline.prepare(write(tmp, "a", 96, 256, 4, false), List.of(), tmp.resolve("ra")));
        List<StagePlan> ckpt = MemoryPlanner.plan(Pipeline.prepare(write(tmp, "b", 96, 256, 4, true), List.of(), tmp.resolve("rb")));
        assertEquals(List.of("pretrain", "r1_zero"), plain.stream().map(StagePlan::stage).toList());
        ModelConfig m = ModelConfig.llama(MemoryPlanner.CHAR_VOCAB_BOUND, 96, 256, 4, 4, 4).withTieEmbeddings(true);
        StagePlan pre = plain.get(0);
        assertEquals(MemoryModel.weightBytes(m), bytes(pre, "weights"));
        assertEquals(MemoryModel.adamBytes(m), bytes(pre, "AdamW"));
        assertEquals(MemoryModel.activationBytes(m, 8 * 256, false), bytes(pre, "activations"));
        assertEquals(MemoryModel.activationBytes(m, 8 * 256, true), bytes(ckpt.get(0), "activations"));
        assertTrue(bytes(ckpt.get(0), "activations") < bytes(pre, "activations") / 5, "checkpointing keeps one C-vector per layer and token");
        assertTrue(pre.alternatives().get(0).what().contains("with gradient checkpointing"));
        StagePlan grpo = plain.get(1);
        // 2 prompts × 4 generations = 8 rows of 64 + 32 positions; reference model since beta > 0; rollout cache of 64 rows
        assertEquals(MemoryModel.activationBytes(m, 8 * 96, false), bytes(grpo, "activations"));
        assertEquals(MemoryModel.weightBytes(m), bytes(grpo, "reference model"));
        assertEquals(MemoryModel.kvCacheBytes(m, 64, 96), bytes(grpo, "KV cache"));
    }

    @Test
    void planCommandPrintsItemsAndFailsWhenTooSmall(@TempDir Path tmp) throws Exception {
        Path cfg = write(tmp, "c", 96, 256, 4, false);
        Result ok = Cli.run("plan", cfg.toString());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("stage pretrain (pretrain)") && ok.out().contains("AdamW moments") && ok.out().contains("KV cache")
                && ok.out().contains("with gradient checkpointing") && ok.out().contains("fits"), ok.out());
        Result small = Cli.run("plan", cfg.toString(), "--memory", "1m");
        assertEquals(3, small.exit(), small.out());
        assertTrue(small.out().contains("DOES NOT FIT: largest is activations") && small.out().contains("gradient_checkpointing: true"), small.out());
    }

    @Test
    void runThatCannotFitIsRefusedBeforeAnyStage(@TempDir Path tmp) throws Exception {
        // hidden 8192, FFN 28672, 24 layers: ~20B parameters, ~320 GB with gradients and moments
        Path cfg = write(tmp, "d", 8192, 28672, 24, false), dir = tmp.resolve("run-d");
        Result r = Cli.run("run", cfg.toString(), "--run-dir", dir.toString());
        assertTrue(r.exit() != 0, r.out());
        String err = r.err();
        assertTrue(err.contains("stage 'pretrain' (pretrain) needs about") && err.contains("the JVM's max heap")
                && err.contains("Largest item: AdamW moments") && err.contains("to shrink it: a smaller model"), err);
        assertFalse(Files.exists(dir.resolve("data")), "nothing was generated");
    }

    @Test
    void gateRefusesUnlessSwitchedOff(@TempDir Path tmp) throws Exception {
        Pipeline p = Pipeline.prepare(write(tmp, "e", 8192, 28672, 24, false), List.of(), tmp.resolve("re"));
        ConfigException e = assertThrows(ConfigException.class, () -> MemoryGate.refuseIfTooBig(p));
        assertTrue(e.getMessage().contains("-Dr1kit.memoryCheck=false"), e.getMessage());
        System.setProperty(MemoryGate.SWITCH, "false");
        try {
            assertDoesNotThrow(() -> MemoryGate.refuseIfTooBig(p));
        } finally {
            System.clearProperty(MemoryGate.SWITCH);
        }
    }

    static long bytes(StagePlan p, String prefix) {
        return p.items().stream().filter(i -> i.what().startsWith(prefix)).findFirst()
                .orElseThrow(() -> new AssertionError(p.stage() + " has no item starting with '" + prefix + "': " + p.items())).bytes();
    }
}

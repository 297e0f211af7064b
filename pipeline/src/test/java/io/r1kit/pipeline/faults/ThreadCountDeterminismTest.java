package io.r1kit.pipeline.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run gives the same bits whatever the number of compute threads: a short pretraining and GRPO run
 * with {@code -Dr1kit.threads=1, 2 and 3}, each in its own JVM (the pool is sized once per process),
 * must write the same weights byte for byte and the same metrics and eval files. The model is the
 * quickstart's width, so every kernel (GEMMs, norms, softmax, the loss reductions, AdamW) is large
 * enough to be split across threads.
 */
class ThreadCountDeterminismTest {
    static final String CONFIG = """
            name: threads
            seed: 3
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 400, seed: 1}}
              train:  {generate: {task: arithmetic, n: 64, seed: 2, params: {part: train}}}
              test:   {generate: {task: arithmetic, n: 8, seed: 3, params: {part: test}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 96, intermediate_size: 256, num_layers: 2, num_heads: 4, max_positions: 256}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 256, batch_size: 8, max_steps: 6, logging_steps: 1}
              - name: r1_zero
                type: grpo
                data: train
                prompts_per_step: 4
                num_generations: 8
                max_completion_length: 32
                learning_rate: 0.001
                num_mini_batches: 2
                max_steps: 3
                save_steps: 3
              - {name: final_eval, type: eval, data: test, num_samples: 2, temperature: 1.0, max_completion_length: 32}
            """;

    @TempDir
    Path tmp;

    @Test
    void oneTwoAndThreeThreadsGiveTheSameBits() throws Exception {
        Path cfg = tmp.resolve("threads.yaml");
        Files.writeString(cfg, CONFIG);
        Path[] runs = new Path[3];
        for (int t = 1; t <= 3; t++) {
            runs[t - 1] = tmp.resolve("t" + t);
            Path log = tmp.resolve("t" + t + ".log");
            assertEquals(0, ChildRuns.runToEnd(cfg, runs[t - 1], log, List.of("-Dr1kit.threads=" + t)), ChildRuns.read(log));
        }
        Path ref = runs[1];   // the two-thread run, what this project's machines measure with
        for (int t : new int[] {1, 3}) {
            Path run = runs[t - 1];
            for (String w : List.of("checkpoints/pretrain/final/model.safetensors", "checkpoints/r1_zero/checkpoint-3/model.safetensors",
                    "checkpoints/r1_zero/checkpoint-3/optimizer.safetensors")) {
                assertArrayEquals(Files.readAllBytes(ref.resolve(w)), Files.readAllBytes(run.resolve(w)), t + " threads: " + w);
            }
            Map<String, JsonNode> a = ChildRuns.metricsByStep(ref), b = ChildRuns.metricsByStep(run);
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) assertEquals(a.get(k), b.get(k), t + " threads: metrics line " + k);
            assertEquals(ChildRuns.withoutTimes(ChildRuns.JSON.readTree(ref.resolve("eval/final_eval.json").toFile())),
                    ChildRuns.withoutTimes(ChildRuns.JSON.readTree(run.resolve("eval/final_eval.json").toFile())), t + " threads: final eval");
        }
    }
}

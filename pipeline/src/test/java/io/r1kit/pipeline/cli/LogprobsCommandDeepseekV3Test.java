package io.r1kit.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.DeepseekV3HfFiles;
import io.r1kit.model.arch.DeepseekV3HfFiles.Kind;
import io.r1kit.model.arch.TorchCausalLM;
import io.r1kit.model.arch.TorchDeepseekV3;
import io.r1kit.pipeline.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code r1kit logprobs --model DIR} through the command line on DeepSeek-V3 checkpoints with MTP
 * weights, BF16 and FP8 block-scaled, written without r1kit code ({@link DeepseekV3HfFiles}), against
 * the float64 libtorch model {@link TorchDeepseekV3}. The bound is the 2e-3 and, since both
 * sides use the same exactly representable weights, 1e-4 (float32 vs float64 arithmetic only).
 */
class LogprobsCommandDeepseekV3Test {
    @TempDir
    Path tmp;

    static final int[][] PROMPTS = {{4, 9, 1}, {30}, {2, 2, 7, 11, 40, 3, 5}};
    static final int[][] COMPLETIONS = {{8, 0, 19, 22}, {5, 6, 7, 8, 9, 10}, {1}};

    @Test
    void logprobsCommandMatchesTheReferenceOnBf16AndFp8Checkpoints() throws Exception {
        ObjectMapper om = new ObjectMapper();
        StringBuilder in = new StringBuilder();
        for (int i = 0; i < PROMPTS.length; i++) {
            in.append("{\"prompt_ids\":").append(om.writeValueAsString(PROMPTS[i])).append(",\"completion_ids\":")
                    .append(om.writeValueAsString(COMPLETIONS[i])).append("}\n");
        }
        Path input = Files.writeString(tmp.resolve("in.jsonl"), in.toString());
        List<Kind> kinds = List.of(
                new Kind("bf16", "BF16", 0, false, DeepseekV3HfFiles.qloraYarnInterleaved()),
                new Kind("fp8", "BF16", 16, false, DeepseekV3HfFiles.qloraYarnInterleaved()));
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            long seed = 41;
            for (Kind k : kinds) {
                Path dir = tmp.resolve(k.name()), out = tmp.resolve("out-" + k.name() + ".jsonl");
                DeepseekV3HfFiles.Written w = DeepseekV3HfFiles.write(dir, k, seed++);
                Cli.Result r = Cli.run("logprobs", "--model", dir.toString(), "--input", input.toString(), "--output", out.toString(),
                        "--batch-size", "2");
                assertEquals(0, r.exit(), r.err());
                assertTrue(r.err().contains("scored 3 line(s)"), r.err());
                TorchDeepseekV3 ref = DeepseekV3HfFiles.reference(nd, k.config(), w.weights());
                int V = k.config().get("vocab_size").intValue();
                List<String> lines = Files.readAllLines(out);
                assertEquals(PROMPTS.length, lines.size());
                double max = 0;
                for (int i = 0; i < PROMPTS.length; i++) {
                    int[] p = PROMPTS[i], c = COMPLETIONS[i];
                    int T = p.length + c.length;
                    int[] ids = new int[T], targets = new int[T], pos = new int[T];
                    Arrays.fill(targets, -1);
                    System.arraycopy(p, 0, ids, 0, p.length);
                    System.arraycopy(c, 0, ids, p.length, c.length);
                    for (int j = 0; j < c.length; j++) targets[p.length - 1 + j] = c[j];
                    for (int t = 0; t < T; t++) pos[t] = t;
                    NDArray logits = ref.logits(ids, 1, T, pos, null).reshape(T, V);
                    double[] all = TorchCausalLM.tokenLogProbs(logits, targets, 1.0);
                    JsonNode lp = om.readTree(lines.get(i)).get("logprobs");
                    assertEquals(c.length, lp.size());
                    for (int j = 0; j < c.length; j++) {
                        double err = Math.abs(lp.get(j).asDouble() - all[p.length - 1 + j]);
                        assertTrue(err <= 2e-3 && err <= 1e-4, k.name() + " line " + i + " token " + j + ": error " + err);
                        max = Math.max(max, err);
                    }
                }
                System.out.printf("r1kit logprobs (CLI) on deepseek_v3 %s: max |r1kit - libtorch f64| = %.3g%n", k.name(), max);
            }
        }
    }
}

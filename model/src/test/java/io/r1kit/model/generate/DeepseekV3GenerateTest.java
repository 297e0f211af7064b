package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DeepseekV3TestModels;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.TorchCausalLM;
import io.r1kit.model.arch.TorchDeepseekV3;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code r1kit logprobs} ({@link LogprobsJsonl}) and greedy {@link Generator} decoding on DeepSeek-V3
 * checkpoint directories (BF16, MTP weights present, yarn, q_lora) against the independent libtorch
 * model {@link TorchDeepseekV3} run on the tensors read back from the files.
 */
class DeepseekV3GenerateTest {
    static final double CONTRACT_BF16 = 2e-3, TIGHT = 1e-4;
    static NDManager manager;
    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    /** A BF16 checkpoint of a random DeepSeek-V3 with a WordLevel tokenizer "w0".."w{V-1}". */
    static Path checkpoint(Path dir, ModelConfig cfg, long seed) throws IOException {
        CausalLM m = DeepseekV3TestModels.model(cfg, seed);
        m.save(dir, DType.BF16);
        int V = cfg.vocabSize();
        StringBuilder vocab = new StringBuilder();
        for (int i = 0; i < V; i++) vocab.append(i == 0 ? "" : ",").append("\"w").append(i).append("\":").append(i);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":null,\"decoder\":null,"
                + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"w0\"}}");
        return dir;
    }

    static Map<String, float[]> tensors(Path dir) throws IOException {
        Map<String, float[]> out = new HashMap<>();
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            for (String n : ck.tensorNames()) out.put(n, ck.load(n));
        }
        return out;
    }

    static int[] positions(int T) {
        int[] p = new int[T];
        for (int t = 0; t < T; t++) p[t] = t;
        return p;
    }

    @Test
    void logprobsOfABf16CheckpointWithMtpMatchTheReference() throws IOException {
        ObjectMapper om = new ObjectMapper();
        for (ModelConfig cfg : List.of(DeepseekV3TestModels.qloraYarnMtp(), DeepseekV3TestModels.plainQ())) {
            int V = cfg.vocabSize();
            Path dir = checkpoint(tmp.resolve("m" + cfg.deepseek().hasQLora()), cfg, 17);
            SplittableRandom r = new SplittableRandom(5);
            List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
            StringBuilder in = new StringBuilder();
            for (int[] l : new int[][] {{1, 6}, {5, 9}, {12, 3}, {3, 1}}) {
                int[] p = r.ints(l[0], 0, V).toArray(), c = r.ints(l[1], 0, V).toArray();
                prompts.add(p);
                completions.add(c);
                in.append("{\"prompt_ids\":").append(om.writeValueAsString(p)).append(",\"completion_ids\":")
                        .append(om.writeValueAsString(c)).append("}\n");
            }
            Path input = Files.writeString(tmp.resolve("in.jsonl"), in.toString()), out = tmp.resolve("out.jsonl");
            assertEquals(prompts.size(), LogprobsJsonl.run(dir, input, out, 2, 1f));
            TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, tensors(dir));
            List<String> lines = Files.readAllLines(out);
            for (int i = 0; i < prompts.size(); i++) {
                int[] p = prompts.get(i), c = completions.get(i);
                int T = p.length + c.length;
                int[] ids = new int[T], targets = new int[T];
                Arrays.fill(targets, -1);
                System.arraycopy(p, 0, ids, 0, p.length);
                System.arraycopy(c, 0, ids, p.length, c.length);
                for (int j = 0; j < c.length; j++) targets[p.length - 1 + j] = c[j];
                NDArray logits = ref.logits(ids, 1, T, positions(T), null).reshape(T, V);
                double[] all = TorchCausalLM.tokenLogProbs(logits, targets, 1.0);
                JsonNode lp = om.readTree(lines.get(i)).get("logprobs");
                assertEquals(c.length, lp.size());
                for (int j = 0; j < c.length; j++) {
                    double err = Math.abs(lp.get(j).asDouble() - all[p.length - 1 + j]);
                    assertTrue(err <= CONTRACT_BF16 && err <= TIGHT, dir + " line " + i + " token " + j + ": error " + err);
                }
            }
        }
    }

    @Test
    void greedyGenerationFollowsTheReferenceArgmax() throws IOException {
        ModelConfig cfg = DeepseekV3TestModels.qloraYarnMtp();
        Path dir = checkpoint(tmp.resolve("gen"), cfg, 23);
        CausalLM m = CausalLM.load(dir);
        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, tensors(dir));
        List<int[]> prompts = List.of(new int[] {3, 9, 27, 1}, new int[] {44}, new int[] {5, 6, 7, 8, 9, 10, 11});
        SamplingParams sp = SamplingParams.greedy(6).withIgnoreEos(true);
        List<Completion> got = new Generator(m).generate(prompts, sp);
        int V = cfg.vocabSize();
        for (int i = 0; i < prompts.size(); i++) {
            int[] seq = prompts.get(i);
            int[] want = new int[6];
            for (int s = 0; s < 6; s++) {
                int T = seq.length;
                float[] lg = ref.logits(seq, 1, T, positions(T), null).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
                int best = 0;
                for (int v = 1; v < V; v++) if (lg[(T - 1) * V + v] > lg[(T - 1) * V + best]) best = v;
                want[s] = best;
                seq = Arrays.copyOf(seq, T + 1);
                seq[T] = best;
            }
            assertArrayEquals(want, got.get(i).tokens(), "prompt " + i);
        }
    }
}

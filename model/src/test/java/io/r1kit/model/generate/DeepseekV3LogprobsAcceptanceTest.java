package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DeepseekV3HfFiles;
import io.r1kit.model.arch.DeepseekV3HfFiles.Kind;
import io.r1kit.model.arch.TorchCausalLM;
import io.r1kit.model.arch.TorchDeepseekV3;
import io.r1kit.model.fp8.CheckpointQuantizer;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance check of {@code r1kit logprobs} on DeepSeek-V3: random tiny {@code deepseek_v3}
 * checkpoints written without r1kit code ({@link DeepseekV3HfFiles}: BF16, F32 sharded, FP8
 * block-scaled with 16×16 and 128×128 blocks; q_lora and plain q_proj; interleaved RoPE and not;
 * yarn with and without mscale keys; 1 or 2 MTP modules present in every file) scored by
 * {@link LogprobsJsonl} (what the CLI command calls) and by the float64 libtorch model
 * {@link TorchDeepseekV3} on weights decoded independently of r1kit's reader. Then read → write →
 * read: the loaded model saved again gives the same tensors, and an FP8 checkpoint rewritten by the
 * quantizer keeps its codes and scales as read.
 */
class DeepseekV3LogprobsAcceptanceTest {
    /** The contract for BF16 and FP8 files (F32 files are held to it too). */
    static final double CONTRACT = 2e-3;
    /**
     * Both sides compute from the same exactly representable weights (BF16 values, decoded FP8
     * codes times F32 scales), so the only difference is float32 vs float64 arithmetic: 1e-4
     * catches any real mismatch (a wrong rope, scale, expert choice or dequantisation block moves
     * log-probs by ≫ 1e-2) while leaving room for float32 rounding through MLA and the MoE.
     */
    static final double TIGHT = 1e-4;

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

    static List<Kind> kinds() {
        return List.of(
                new Kind("bf16-qlora-yarn-interleaved", "BF16", 0, false, DeepseekV3HfFiles.qloraYarnInterleaved()),
                new Kind("f32-sharded-plainq-not-interleaved", "F32", 0, true, DeepseekV3HfFiles.plainQNotInterleaved()),
                new Kind("bf16-plainq-yarn-2mtp", "BF16", 0, false, DeepseekV3HfFiles.plainQYarnTwoMtp()),
                new Kind("fp8-block16-bf16-qlora-yarn-interleaved", "BF16", 16, false, DeepseekV3HfFiles.qloraYarnInterleaved()),
                new Kind("fp8-block128-f32-sharded-plainq", "F32", 128, true, DeepseekV3HfFiles.plainQNotInterleaved()),
                new Kind("fp8-block16-bf16-plainq-yarn-2mtp", "BF16", 16, false, DeepseekV3HfFiles.plainQYarnTwoMtp()));
    }

    /** Prompt / completion pairs, one of each kind of line (ids and text), written as logprobs input. */
    record Input(Path file, List<int[]> prompts, List<int[]> completions) {}

    static Input input(Path file, int vocab, long seed) throws IOException {
        ObjectMapper om = new ObjectMapper();
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
        StringBuilder in = new StringBuilder();
        for (int[] l : new int[][] {{1, 6}, {5, 9}, {12, 3}, {3, 1}, {20, 14}}) {
            int[] p = r.ints(l[0], 0, vocab).toArray(), c = r.ints(l[1], 0, vocab).toArray();
            prompts.add(p);
            completions.add(c);
            in.append("{\"prompt_ids\":").append(om.writeValueAsString(p)).append(",\"completion_ids\":")
                    .append(om.writeValueAsString(c)).append("}\n");
        }
        in.append("{\"prompt\":\"w3 w17 w5\",\"completion\":\"w9 w1 w30\"}\n");
        prompts.add(new int[] {3, 17, 5});
        completions.add(new int[] {9, 1, 30});
        Files.writeString(file, in.toString());
        return new Input(file, prompts, completions);
    }

    /** The reference's log-probs of each completion token. */
    static double[] referenceLogprobs(TorchDeepseekV3 ref, int vocab, int[] p, int[] c) {
        int T = p.length + c.length;
        int[] ids = new int[T], targets = new int[T], pos = new int[T];
        Arrays.fill(targets, -1);
        System.arraycopy(p, 0, ids, 0, p.length);
        System.arraycopy(c, 0, ids, p.length, c.length);
        for (int j = 0; j < c.length; j++) targets[p.length - 1 + j] = c[j];
        for (int t = 0; t < T; t++) pos[t] = t;
        NDArray logits = ref.logits(ids, 1, T, pos, null).reshape(T, vocab);
        return Arrays.copyOfRange(TorchCausalLM.tokenLogProbs(logits, targets, 1.0), p.length - 1, p.length - 1 + c.length);
    }

    /**
     * The largest |r1kit − reference| over every completion token of {@code out}, asserting the
     * contract and the tight bound on each.
     */
    static double maxError(Path out, Input in, TorchDeepseekV3 ref, int vocab, String what) throws IOException {
        ObjectMapper om = new ObjectMapper();
        List<String> lines = Files.readAllLines(out);
        assertEquals(in.prompts().size(), lines.size(), what);
        double max = 0;
        for (int i = 0; i < lines.size(); i++) {
            JsonNode lp = om.readTree(lines.get(i)).get("logprobs");
            double[] exp = referenceLogprobs(ref, vocab, in.prompts().get(i), in.completions().get(i));
            assertEquals(exp.length, lp.size(), what + " line " + i);
            for (int j = 0; j < exp.length; j++) {
                double err = Math.abs(lp.get(j).asDouble() - exp[j]);
                assertTrue(err <= CONTRACT && err <= TIGHT, what + " line " + i + " token " + j + ": " + lp.get(j).asDouble()
                        + " vs " + exp[j] + " (error " + err + ")");
                max = Math.max(max, err);
            }
        }
        return max;
    }

    @Test
    void logprobsOfEveryCheckpointKindMatchTheIndependentReference() throws IOException {
        long seed = 100;
        for (Kind k : kinds()) {
            Path dir = tmp.resolve(k.name());
            DeepseekV3HfFiles.Written w = DeepseekV3HfFiles.write(dir, k, seed++);
            int V = k.config().get("vocab_size").intValue();
            try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
                assertTrue(ck.tensorNames().stream().anyMatch(n -> n.contains(".shared_head.head.")), k.name() + ": MTP weights present");
                if (k.fp8Block() > 0) assertTrue(ck.isFp8Scaled("model.layers.1.mlp.experts.0.down_proj.weight"), k.name());
            }
            Input in = input(tmp.resolve("in-" + k.name() + ".jsonl"), V, seed);
            Path out = tmp.resolve("out-" + k.name() + ".jsonl");
            assertEquals(in.prompts().size(), LogprobsJsonl.run(dir, in.file(), out, 2, 1f));
            double max = maxError(out, in, DeepseekV3HfFiles.reference(manager, k.config(), w.weights()), V, k.name());
            System.out.printf("deepseek_v3 logprobs %-42s max |r1kit - libtorch f64| = %.3g%n", k.name(), max);
        }
    }

    /** Every tensor of a directory as r1kit reads it (FP8 dequantised). */
    static Map<String, float[]> read(Path dir) throws IOException {
        Map<String, float[]> out = new java.util.HashMap<>();
        try (HfCheckpoint ck = HfCheckpoint.open(dir)) {
            for (String n : ck.tensorNames()) out.put(n, ck.load(n));
        }
        return out;
    }

    @Test
    void readWriteReadGivesTheSameTensors() throws IOException {
        long seed = 300;
        for (Kind k : kinds()) {
            Path dir = tmp.resolve(k.name());
            DeepseekV3HfFiles.Written w = DeepseekV3HfFiles.write(dir, k, seed++);
            Map<String, float[]> first = read(dir);
            assertEquals(w.weights().keySet(), first.keySet(), k.name() + ": the scales are not listed as tensors");
            for (var e : w.weights().entrySet()) assertArrayEquals(e.getValue(), first.get(e.getKey()), k.name() + " read: " + e.getKey());

            // the loaded model written again (F32 keeps every value: BF16 and dequantised FP8 are exact in it) and read back
            Path again = tmp.resolve(k.name() + "-again");
            CausalLM.load(dir).save(again, DType.F32);
            Map<String, float[]> second = read(again);
            assertEquals(first.keySet(), second.keySet(), k.name());
            for (String n : first.keySet()) assertArrayEquals(first.get(n), second.get(n), k.name() + " read → write → read: " + n);
            if (k.dtype().equals("BF16") && k.fp8Block() == 0) {
                Path bf = tmp.resolve(k.name() + "-bf16");
                CausalLM.load(dir).save(bf, DType.BF16);
                Map<String, float[]> third = read(bf);
                for (String n : first.keySet()) assertArrayEquals(first.get(n), third.get(n), k.name() + " BF16 again: " + n);
            }

            if (k.fp8Block() > 0) {
                // FP8 rewritten (r1kit quantize): codes and scales kept as read, the rest of the file unchanged
                Path requant = tmp.resolve(k.name() + "-fp8-again");
                CheckpointQuantizer.Result r = CheckpointQuantizer.quantize(dir, requant, Fp8Format.E4M3, k.fp8Block());
                assertEquals(0, r.quantized(), k.name() + ": nothing newly quantised");
                assertEquals(w.fp8Codes().size(), r.copiedFp8(), k.name());
                try (HfCheckpoint ck = HfCheckpoint.open(requant)) {
                    for (String n : w.fp8Codes().keySet()) {
                        assertTrue(ck.isFp8Scaled(n), n);
                        Fp8Blocks b = ck.loadFp8(n);
                        assertArrayEquals(w.fp8Codes().get(n), b.codes(), k.name() + " codes: " + n);
                        assertArrayEquals(w.fp8Scales().get(n), b.scaleInv(), k.name() + " scales: " + n);
                        assertEquals(k.fp8Block(), b.blockRows());
                    }
                    for (String n : w.weights().keySet()) {
                        if (!w.fp8Codes().containsKey(n)) assertFalse(ck.isFp8Scaled(n), k.name() + ": stays a float tensor: " + n);
                    }
                }
                Map<String, float[]> fourth = read(requant);
                for (String n : first.keySet()) assertArrayEquals(first.get(n), fourth.get(n), k.name() + " FP8 again: " + n);
            }
        }
    }

    @Test
    void quantizingADeepseekCheckpointWithMtpKeepsTheSharedCopiesAndMatchesTheReference() throws IOException {
        Kind k = new Kind("bf16-for-quantize", "BF16", 0, false, DeepseekV3HfFiles.qloraYarnInterleaved());
        Path src = tmp.resolve("src"), fp8 = tmp.resolve("fp8");
        DeepseekV3HfFiles.write(src, k, 7);
        CheckpointQuantizer.quantize(src, fp8, Fp8Format.E4M3, 16);
        int L = k.config().get("num_hidden_layers").intValue();
        try (HfCheckpoint ck = HfCheckpoint.open(fp8)) {
            assertTrue(ck.isFp8Scaled("model.layers." + L + ".self_attn.kv_b_proj.weight"), "the MTP module's block is FP8");
            for (String n : List.of("embed_tokens.weight", "shared_head.head.weight", "eh_proj.weight")) {
                assertFalse(ck.isFp8Scaled("model.layers." + L + "." + n), n + " stays BF16 as in DeepSeek-V3's release");
                assertEquals(DType.BF16, ck.info("model.layers." + L + "." + n).dtype(), n);
            }
        }
        Input in = input(tmp.resolve("in.jsonl"), k.config().get("vocab_size").intValue(), 8);
        Path out = tmp.resolve("out.jsonl");
        assertEquals(in.prompts().size(), LogprobsJsonl.run(fp8, in.file(), out, 3, 1f));
        double max = maxError(out, in, DeepseekV3HfFiles.reference(manager, k.config(), read(fp8)), k.config().get("vocab_size").intValue(),
                "quantized");
        System.out.printf("deepseek_v3 logprobs %-42s max |r1kit - libtorch f64| = %.3g%n", "bf16 quantized by r1kit (block 16)", max);
    }
}

package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.ArchTestSupport;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.hf.SafetensorsWriter;
import io.r1kit.model.hf.StoredTensor;
import io.r1kit.model.hf.TensorInfo;
import io.r1kit.model.tensor.Parameter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FP8 checkpoints in DeepSeek-V3's layout: written by the quantizer, read back, and rejected when malformed. */
class Fp8CheckpointTest {
    @TempDir
    Path tmp;

    /** Widths that are not multiples of 128, so edge blocks are partial. */
    static ModelConfig config() {
        return ModelConfig.qwen2(300, 192, 320, 2, 4, 2).withRope(1e6, RopeTables.Scaling.none(), 256);
    }

    Path quantizedModel(CausalLM m) throws IOException {
        Path src = tmp.resolve("fp32"), out = tmp.resolve("fp8");
        m.save(src, DType.F32);
        CheckpointQuantizer.Result r = CheckpointQuantizer.quantize(src, out, Fp8Format.E4M3, 128);
        assertEquals(2 * 7, r.quantized(), "q/k/v/o/gate/up/down of 2 layers");
        assertTrue(r.bytesAfter() < r.bytesBefore() / 2, r.toString());
        return out;
    }

    @Test
    void quantizedCheckpointHasDeepSeekLayoutAndLoadsAsItsDequantisedWeights() throws IOException {
        CausalLM m = CausalLM.random(config(), 1);
        ArchTestSupport.perturb(m, 2);
        Path out = quantizedModel(m);

        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        JsonNode q = cfg.get("quantization_config");
        assertEquals("fp8", q.get("quant_method").asText());
        assertEquals("e4m3", q.get("fmt").asText());
        assertEquals("[128,128]", q.get("weight_block_size").toString());
        assertEquals("float32", cfg.get("torch_dtype").asText());
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("model.safetensors"))) {
            Map<String, TensorInfo> t = r.tensors();
            assertEquals(DType.F8_E4M3, t.get("model.layers.0.mlp.down_proj.weight").dtype());
            TensorInfo s = t.get("model.layers.0.mlp.down_proj.weight_scale_inv");
            assertEquals(DType.F32, s.dtype());
            assertArrayEquals(new int[] {2, 3}, s.shape(), "down_proj [192, 320] in 128x128 blocks");
            assertEquals(DType.F32, t.get("model.embed_tokens.weight").dtype());
            assertEquals(DType.F32, t.get("model.layers.0.input_layernorm.weight").dtype());
            assertEquals(DType.F32, t.get("model.layers.0.self_attn.q_proj.bias").dtype());
            assertEquals(DType.F32, t.get("lm_head.weight").dtype());
        }

        // The reference: the fp32 model with each quantised weight replaced by the scalar quantise-dequantise.
        CausalLM ref = m.copy();
        for (Parameter p : ref.parameters()) {
            int[] s = p.shape();
            if (CheckpointQuantizer.quantizable(p.name(), s)) {
                p.copyFrom(Fp8Blocks.quantizeScalar(p.data(), s[0], s[1], 128, 128, Fp8Format.E4M3).dequantizeScalar());
            }
        }
        CausalLM loaded = CausalLM.load(out);
        for (Parameter p : loaded.parameters()) {
            assertArrayEquals(ref.namedParameters().get(p.name()).data(), p.data(), p.name());
        }
        Batch batch = batch(new SplittableRandom(3), 300);
        float[] lpFp8 = loaded.scoreTokens(batch, false).logprobs().toArray();
        float[] lpRef = ref.scoreTokens(batch, false).logprobs().toArray();
        float[] lpFp32 = m.scoreTokens(batch, false).logprobs().toArray();
        double maxRef = 0, maxFp32 = 0;
        for (int i = 0; i < lpFp8.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(lpFp8[i] - lpRef[i]));
            maxFp32 = Math.max(maxFp32, Math.abs(lpFp8[i] - lpFp32[i]));
        }
        // The loaded weights are the dequantised ones bit for bit, so the log-probs agree far inside the 2e-3 budget.
        assertTrue(maxRef <= 2e-3, "fp8 checkpoint vs fp32 of its dequantised weights: " + maxRef);
        // And quantisation really changed the model (E4M3 steps are up to 2^-4 relative; perturb()'s sharp
        // logits turn that into log-prob changes of up to ~0.5, so only a lower bound is meaningful here).
        assertTrue(maxFp32 > 1e-4, "fp8 vs the unquantised model: " + maxFp32);
    }

    static Batch batch(SplittableRandom r, int vocab) {
        List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            prompts.add(r.ints(5 + b, 0, vocab).toArray());
            completions.add(r.ints(7 - b, 0, vocab).toArray());
        }
        return Batch.of(prompts, completions);
    }

    @Test
    void readWriteReadKeepsCodesAndScales() throws IOException {
        CausalLM m = CausalLM.random(config(), 4);
        Path out = quantizedModel(m);
        Path again = tmp.resolve("again");
        CheckpointQuantizer.Result r = CheckpointQuantizer.quantize(out, again, Fp8Format.E4M3, 128);
        assertEquals(0, r.quantized());
        assertEquals(14, r.copiedFp8());
        try (HfCheckpoint a = HfCheckpoint.open(out); HfCheckpoint b = HfCheckpoint.open(again)) {
            assertEquals(a.tensorNames().size(), b.tensorNames().size());
            for (String n : a.tensorNames()) {
                assertEquals(a.isFp8Scaled(n), b.isFp8Scaled(n), n);
                if (a.isFp8Scaled(n)) assertEquals(a.loadFp8(n), b.loadFp8(n), n);
                else assertArrayEquals(a.load(n), b.load(n), n);
            }
            assertFalse(a.tensorNames().stream().anyMatch(n -> n.endsWith("_scale_inv")), "scales are not listed as tensors");
        }
        assertArrayEquals(Files.readAllBytes(out.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")));
    }

    /** A checkpoint directory with the config of {@link #config()} plus {@code quantization_config}, and the given tensors. */
    Path handMade(String name, JsonNode quantization, List<StoredTensor> tensors) throws IOException {
        Path dir = tmp.resolve(name);
        CausalLM.random(config(), 5).save(dir, DType.F32);
        ObjectMapper om = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) om.readTree(dir.resolve("config.json").toFile());
        if (quantization != null) cfg.set("quantization_config", quantization);
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        SafetensorsWriter.writeMixed(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return dir;
    }

    static JsonNode quant(String json) throws IOException {
        return new ObjectMapper().readTree(json);
    }

    static final String FP8_128 = "{\"quant_method\":\"fp8\",\"fmt\":\"e4m3\",\"weight_block_size\":[128,128]}";

    static List<StoredTensor> weightWithScales(int[] scaleShape, DType scaleDtype, float scale) {
        byte[] codes = new byte[200 * 130];
        for (int i = 0; i < codes.length; i++) codes[i] = (byte) (i % 0x7E);
        int n = 1;
        for (int d : scaleShape) n *= d;
        float[] s = new float[n];
        java.util.Arrays.fill(s, scale);
        List<StoredTensor> out = new ArrayList<>();
        out.add(StoredTensor.ofBytes("w", DType.F8_E4M3, new int[] {200, 130}, codes));
        if (scaleShape.length > 0 || n == 1) out.add(new StoredTensor("w_scale_inv", scaleDtype, scaleShape, s, null));
        return out;
    }

    @Test
    void wellFormedBlockAndPerTensorScalesDequantise() throws IOException {
        try (HfCheckpoint ck = HfCheckpoint.open(handMade("ok", quant(FP8_128), weightWithScales(new int[] {2, 2}, DType.BF16, 0.5f)))) {
            assertTrue(ck.isFp8Scaled("w"));
            float[] w = ck.load("w");
            assertEquals(Fp8Format.E4M3.decode(5) * 0.5f, w[5]);
            assertEquals(List.of("w"), ck.tensorNames());
        }
        try (HfCheckpoint ck = HfCheckpoint.open(handMade("pertensor", quant(FP8_128), weightWithScales(new int[] {}, DType.F32, 2f)))) {
            assertEquals(Fp8Format.E4M3.decode(7) * 2f, ck.load("w")[7]);
        }
    }

    static String error(ThrowingOpen open) {
        CheckpointException e = assertThrows(CheckpointException.class, open::run);
        return e.getMessage();
    }

    interface ThrowingOpen {
        void run() throws IOException;
    }

    @Test
    void malformedFp8CheckpointsAreRejectedNamingTheTensor() throws IOException {
        Path wrongShape = handMade("shape", quant(FP8_128), weightWithScales(new int[] {2, 1}, DType.F32, 1f));
        String m = error(() -> HfCheckpoint.open(wrongShape).close());
        assertTrue(m.contains("w_scale_inv") && m.contains("[2, 2]"), m);

        List<StoredTensor> noScale = weightWithScales(new int[] {2, 2}, DType.F32, 1f).subList(0, 1);
        Path missing = handMade("missing", quant(FP8_128), noScale);
        m = error(() -> HfCheckpoint.open(missing).close());
        assertTrue(m.contains("'w'") && m.contains("w_scale_inv") && m.contains("quant_method fp8"), m);

        List<StoredTensor> intScale = new ArrayList<>(noScale);
        intScale.add(StoredTensor.ofBytes("w_scale_inv", DType.U8, new int[] {2, 2}, new byte[4]));
        Path badDtype = handMade("dtype", quant(FP8_128), intScale);
        m = error(() -> HfCheckpoint.open(badDtype).close());
        assertTrue(m.contains("w_scale_inv") && m.contains("U8"), m);

        Path noBlock = handMade("noblock", quant("{\"quant_method\":\"fp8\"}"), weightWithScales(new int[] {2, 2}, DType.F32, 1f));
        m = error(() -> HfCheckpoint.open(noBlock).close());
        assertTrue(m.contains("weight_block_size"), m);

        Path otherMethod = handMade("gptq", quant("{\"quant_method\":\"gptq\"}"), weightWithScales(new int[] {2, 2}, DType.F32, 1f));
        m = error(() -> HfCheckpoint.open(otherMethod).close());
        assertTrue(m.contains("gptq"), m);

        Path negative = handMade("negative", quant(FP8_128), weightWithScales(new int[] {2, 2}, DType.F32, -1f));
        try (HfCheckpoint ck = HfCheckpoint.open(negative)) {
            m = error(() -> ck.load("w"));
            assertTrue(m.contains("w_scale_inv") && m.contains("-1.0"), m);
        }

        List<StoredTensor> orphan = List.of(new StoredTensor("x_scale_inv", DType.F32, new int[] {1}, new float[] {1f}, null));
        Path orphanScale = handMade("orphan", quant(FP8_128), orphan);
        m = error(() -> HfCheckpoint.open(orphanScale).close());
        assertTrue(m.contains("x_scale_inv") && m.contains("'x'"), m);
    }
}

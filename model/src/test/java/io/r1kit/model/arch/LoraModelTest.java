package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfJson;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.lora.LoraAdapters;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.lora.PeftAdapterFiles;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA on a model: PEFT's initialisation, frozen base, merge, disable, PEFT files and their errors. */
class LoraModelTest {
    static final int B = 2, T = 7;
    static final LoraConfig ALL = new LoraConfig(4, 8, 0, List.of("all-linear"));

    static CausalLM model() {
        CausalLM m = CausalLM.random(ArchTestSupport.llama3(), 41);
        ArchTestSupport.perturb(m, 42);
        return m;
    }

    static void randomize(LoraAdapters ad, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : ad.parameters()) {
            float[] v = p.data();
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.2 * r.nextGaussian());
        }
    }

    static float[] logits(CausalLM m) {
        int[] ids = ArchTestSupport.randomIds(43, B * T, m.config().vocabSize());
        try (Grad.Scope ng = Grad.noGrad()) {
            return m.forward(ids, B, T, null, null).data();
        }
    }

    static List<float[]> weights(CausalLM m) {
        List<float[]> w = new ArrayList<>();
        for (Parameter p : m.parameters()) w.add(p.data().clone());
        return w;
    }

    @Test
    void initialisedAsPeftSoTheModelStartsAsItsBase() {
        CausalLM m = model();
        float[] base = logits(m);
        LoraAdapters ad = m.attachLora(ALL, 7);
        assertEquals(2 * 2 * 7, ad.parameters().size());
        for (Parameter p : ad.parameters()) {
            float[] v = p.data();
            if (p.name().endsWith("lora_B.weight")) {
                for (float x : v) assertEquals(0f, x, p.name());
            } else {
                double bound = 1 / Math.sqrt(p.dim(1)), max = 0;
                for (float x : v) max = Math.max(max, Math.abs(x));
                assertTrue(max <= bound && max > 0.8 * bound, p.name() + ": max |A| " + max + " vs bound " + bound);
            }
            assertTrue(p.name().startsWith("base_model.model.model.layers."), p.name());
        }
        assertEquals("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", ad.parameters().get(0).name());
        assertArrayEquals(new int[] {4, 64}, ad.parameters().get(0).shape());
        assertArrayEquals(base, logits(m), "B = 0: the adapted model is exactly the base");
    }

    @Test
    void mergedWeightsComputeTheSameAndArePutBackExactly() {
        CausalLM m = model();
        List<float[]> before = weights(m);
        LoraAdapters ad = m.attachLora(ALL, 7);
        randomize(ad, 8);
        float[] adapted = logits(m);
        float[] merged;
        try (LoraAdapters.Scope s = ad.merged()) {
            // one merged weight against W + B·A·alpha/r in double
            Parameter q = m.layers().get(1).qProj();
            float[] w = q.data(), w0 = before.get(m.parameters().indexOf(q));
            Parameter a = ad.parameters().get(14), b = ad.parameters().get(15);
            assertEquals("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", a.name());
            float[] av = a.data(), bv = b.data();
            int out = q.dim(0), in = q.dim(1), r = 4;
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double d = 0;
                    for (int k = 0; k < r; k++) d += (double) bv[o * r + k] * av[k * in + i];
                    assertEquals(w0[o * in + i] + 2.0 * d, w[o * in + i], 1e-6, "merged q_proj[" + o + "," + i + "]");
                }
            }
            merged = logits(m);
        }
        // float32 sums in a different order: (W + BA·s)·x against W·x + s·B(A·x); logits are O(1-5)
        TorchRef.assertClose("merged vs adapter forward", adapted, merged, 2e-5, 1e-5);
        List<float[]> after = weights(m);
        for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), after.get(i), m.parameters().get(i).name());
        assertArrayEquals(adapted, logits(m), "after the merged scope the adapter forward is back");
    }

    @Test
    void disabledAdaptersGiveTheBaseModelExactly() {
        CausalLM m = model();
        float[] base = logits(m);
        LoraAdapters ad = m.attachLora(ALL, 7);
        randomize(ad, 9);
        float[] adapted = logits(m);
        assertFalse(java.util.Arrays.equals(base, adapted));
        float[] off = ad.withDisabled(() -> logits(m));
        assertArrayEquals(base, off);
        assertArrayEquals(adapted, logits(m));
    }

    @Test
    void aTrainingStepMovesTheAdaptersOnly() {
        CausalLM m = model();
        List<float[]> before = weights(m);
        LoraAdapters ad = m.attachLora(new LoraConfig(2, 4, 0, null), 7);
        AdamW opt = new AdamW(m.trainableParameters(), AdamW.Config.defaults(1e-2f));
        int[] ids = ArchTestSupport.randomIds(44, B * T, m.config().vocabSize());
        Tensor loss = F.mean(m.forward(ids, B, T, null, null));
        loss.backward();
        for (Parameter p : m.parameters()) assertEquals(null, p.gradData(), p.name());
        opt.step();
        List<float[]> after = weights(m);
        for (int i = 0; i < before.size(); i++) assertArrayEquals(before.get(i), after.get(i), m.parameters().get(i).name());
        for (Parameter p : ad.parameters()) {
            if (p.name().endsWith("lora_B.weight")) assertNotEquals(0f, p.data()[0], p.name() + " did not move");
        }
        assertEquals(2 * ad.parameters().size(), opt.exportState().tensors().size(), "AdamW state: m and v of the adapters only");
        assertTrue(ad.parameters().stream().allMatch(p -> p.name().contains(".self_attn.q_proj.") || p.name().contains(".self_attn.v_proj.")));
    }

    @Test
    void dropoutMasksTheAdapterBranchOnlyWhileTrainingAndRepeatsForTheSameInput() {
        CausalLM m = model();
        LoraAdapters ad = m.attachLora(new LoraConfig(4, 8, 0.5, List.of("all-linear")), 7);
        randomize(ad, 10);
        int[] ids = ArchTestSupport.randomIds(45, B * T, m.config().vocabSize());
        float[] eval = logits(m);
        float[] train1 = m.forward(ids, B, T, null, null).data(), train2 = m.forward(ids, B, T, null, null).data();
        assertArrayEquals(train1, train2, "the same input draws the same mask");
        assertFalse(java.util.Arrays.equals(eval, train1), "dropout changed nothing while training");
        float[] off = ad.withDisabled(() -> m.forward(ids, B, T, null, null).data());
        CausalLM plain = model();
        assertArrayEquals(plain.forward(ids, B, T, null, null).data(), off, "dropout touches the adapter branch only");
    }

    @Test
    void peftFilesRoundTripAndLoadAsTheMergedModel(@TempDir Path tmp) throws Exception {
        Path baseDir = tmp.resolve("base");
        model().save(baseDir, DType.F32);
        CausalLM m = CausalLM.load(baseDir);
        LoraAdapters ad = m.attachLora(new LoraConfig(4, 16, 0.05, List.of("v_proj", "q_proj", "down_proj")), 7);
        randomize(ad, 11);
        float[] adapted = logits(m);
        Path out = tmp.resolve("adapter");
        m.save(out, DType.BF16);   // adapters: PEFT layout, float32 whatever the dtype
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        assertFalse(Files.exists(out.resolve("config.json")));
        JsonNode cfg = HfJson.read(out.resolve("adapter_config.json"));
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(16.0, cfg.get("lora_alpha").asDouble());
        assertEquals(0.05, cfg.get("lora_dropout").asDouble());
        assertEquals("[\"q_proj\",\"v_proj\",\"down_proj\"]", cfg.get("target_modules").toString());
        assertEquals(baseDir.toAbsolutePath().normalize().toString(), cfg.get("base_model_name_or_path").asText());
        assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("adapter_model.safetensors"))) {
            assertEquals(2 * 2 * 3, r.tensors().size());
            assertTrue(r.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
            assertTrue(r.contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
            assertArrayEquals(new int[] {64, 4}, r.info("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").shape());
        }

        CausalLM fresh = CausalLM.load(baseDir);
        LoraAdapters ad2 = fresh.attachLora(ad.config(), 99);
        PeftAdapterFiles.load(out, ad2);
        for (int i = 0; i < ad.parameters().size(); i++) assertArrayEquals(ad.parameters().get(i).data(), ad2.parameters().get(i).data());
        assertArrayEquals(adapted, logits(fresh));

        CausalLM merged = CausalLM.load(out);
        assertEquals(null, merged.lora());
        TorchRef.assertClose("adapter dir loaded merged", adapted, logits(merged), 2e-5, 1e-5);
        assertThrows(IllegalStateException.class, () -> merged.attachLora(ALL, 1));
    }

    @Test
    void mismatchedOrForeignAdapterFilesAreRefusedByName(@TempDir Path tmp) throws Exception {
        CausalLM m = model();
        LoraAdapters ad = m.attachLora(new LoraConfig(4, 8, 0, null), 7);
        Path out = tmp.resolve("a");
        PeftAdapterFiles.save(out, ad, null, null);

        CausalLM other = model();
        LoraAdapters r2 = other.attachLora(new LoraConfig(2, 8, 0, null), 7);
        CheckpointException e = assertThrows(CheckpointException.class, () -> PeftAdapterFiles.load(out, r2));
        assertTrue(e.getMessage().contains("adapter_config.json") && e.getMessage().contains("r 4"), e.getMessage());

        Path cfg = out.resolve("adapter_config.json");
        String text = Files.readString(cfg);
        Files.writeString(cfg, text.replace("\"use_dora\" : false", "\"use_dora\" : true"));
        e = assertThrows(CheckpointException.class, () -> PeftAdapterFiles.read(out));
        assertTrue(e.getMessage().contains("use_dora"), e.getMessage());
        Files.writeString(cfg, text.replace("\"target_modules\" : [ \"q_proj\", \"v_proj\" ]", "\"target_modules\" : \".*proj\""));
        e = assertThrows(CheckpointException.class, () -> PeftAdapterFiles.read(out));
        assertTrue(e.getMessage().contains("target_modules"), e.getMessage());
        Files.writeString(cfg, text);

        e = assertThrows(CheckpointException.class, () -> CausalLM.load(out));
        assertTrue(e.getMessage().contains("base_model_name_or_path"), e.getMessage());

        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> new LoraConfig(8, 8, 0, List.of("lm_head")));
        assertTrue(bad.getMessage().contains("lm_head"), bad.getMessage());
        UnsupportedOperationException ds = assertThrows(UnsupportedOperationException.class,
                () -> CausalLM.random(DeepseekV3TestModels.plainQ(), 1).attachLora(ALL, 1));
        assertTrue(ds.getMessage().contains("DeepSeek"), ds.getMessage());
    }

    /** On a (host-emulated) device: adapters live there, train, merge and switch off as on the host; the base gets no gradient. */
    @Test
    void onADeviceTheAdaptersTrainMergeAndSwitchOffAsOnTheHost() {
        CausalLM host = model();
        LoraAdapters ha = host.attachLora(ALL, 7);
        randomize(ha, 12);
        CausalLM dev = model();
        dev.moveTo(new EmulatedDevice());
        LoraAdapters da = dev.attachLora(ALL, 7);
        for (int i = 0; i < ha.parameters().size(); i++) {
            assertTrue(da.parameters().get(i).isOnDevice(), da.parameters().get(i).name());
            da.parameters().get(i).copyFrom(ha.parameters().get(i).data());
        }
        int[] ids = ArchTestSupport.randomIds(46, B * T, host.config().vocabSize()), targets = ArchTestSupport.randomIds(47, B * T,
                host.config().vocabSize());
        F.crossEntropy(host.forward(ids, B, T, null, null), targets).backward();
        F.crossEntropy(dev.forward(ids.clone(), B, T, null, null), targets.clone()).backward();
        for (Parameter p : dev.parameters()) assertEquals(null, p.gradData(), p.name());
        for (int i = 0; i < ha.parameters().size(); i++) {
            // the same kernels on the emulated device; sums may be ordered differently
            TorchRef.assertClose("device grad " + ha.parameters().get(i).name(), ha.parameters().get(i).gradData(),
                    da.parameters().get(i).gradData(), 1e-6, 1e-4);
        }
        float[] adapted = logits(dev), hostLogits = logits(host);
        TorchRef.assertClose("device vs host logits", hostLogits, adapted, 1e-5, 1e-5);
        try (LoraAdapters.Scope s = da.merged()) {
            TorchRef.assertClose("device merged", adapted, logits(dev), 2e-5, 1e-5);
        }
        assertArrayEquals(adapted, logits(dev), "device base values restored");
        assertArrayEquals(logits(model()), da.withDisabled(() -> logits(dev)), "adapters off on the device = the base");
    }

    @Test
    void frozenParametersRefuseGradAndThawBack() {
        Parameter p = Parameter.zeros("w", 2, 2);
        assertTrue(p.requiresGrad());
        p.frozen(true);
        assertFalse(p.requiresGrad());
        assertThrows(UnsupportedOperationException.class, () -> p.requiresGrad(true));
        p.frozen(false);
        assertTrue(p.requiresGrad());
        assertThrows(UnsupportedOperationException.class, () -> p.requiresGrad(false));
    }
}

package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.lora.LoraAdapters;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LoRA's forward and the adapters' gradients against libtorch: {@link TorchCausalLM} (float64)
 * with the adapter term y + (x·Aᵀ)·Bᵀ·alpha/r on the same projections, autograd through A and B.
 * The base weights are frozen on the r1kit side and must receive no gradient at all.
 */
class LoraTorchTest {
    static final int B = CausalLMTorchTest.B, T = CausalLMTorchTest.T;

    static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("llama3-gqa-all-linear", ArchTestSupport.llama3(), new LoraConfig(4, 8, 0, List.of("all-linear"))),
                Arguments.of("qwen2-bias-tied-q-v", ArchTestSupport.qwen2Tied(), new LoraConfig(3, 5, 0, null)),
                Arguments.of("qwen3-qknorm-o-down", ArchTestSupport.qwen3(), new LoraConfig(2, 2, 0, List.of("o_proj", "down_proj"))));
    }

    /**
     * The same tolerances as the full-model comparison ({@link CausalLMTorchTest}): a float32 model
     * against float64 torch; the adapter branch adds two thin GEMMs (K = in and K = r) per projection.
     * Gradients: atol = 1e-4 · max|g| of each adapter tensor, rtol 1e-3.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void adapterGradientsMatchTorch(String name, ModelConfig cfg, LoraConfig lc) {
        CausalLM m = CausalLM.random(cfg, 31);
        ArchTestSupport.perturb(m, 32);
        LoraAdapters ad = m.attachLora(lc, 33);
        // B starts at zero (PEFT), which would make A's gradient zero: give both random values
        SplittableRandom r = new SplittableRandom(34);
        for (Parameter p : ad.parameters()) {
            float[] v = p.data();
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.3 * r.nextGaussian());
        }
        int V = cfg.vocabSize();
        int[] ids = ArchTestSupport.randomIds(35, B * T, V);
        int[] pos = CausalLMTorchTest.positions();
        byte[] mask = CausalLMTorchTest.keyMask();
        int[] targets = new int[B * T];
        for (int i = 0; i < B * T; i++) targets[i] = CausalLMTorchTest.real(i) && i % T < T - 1 ? ids[i + 1] : -1;
        float[] a = TorchRef.randn(36, B * T).data();
        for (int i = 0; i < B * T; i++) if (!CausalLMTorchTest.real(i)) a[i] = 0;

        TokenScores s = m.scoreTokens(ids, B, T, pos, mask, targets, 1f, false);
        F.sum(F.mul(s.logprobs(), Tensor.wrap(a, B, T))).backward();

        for (Parameter p : m.parameters()) {
            assertTrue(p.frozen(), p.name());
            assertNull(p.gradData(), "frozen base weight " + p.name() + " received a gradient");
        }
        assertEquals(ad.parameters(), m.trainableParameters());

        Map<String, float[]> w = ArchTestSupport.weights(m);
        for (Parameter p : ad.parameters()) w.put(p.name().substring(LoraAdapters.PEFT_PREFIX.length()), p.data().clone());
        TorchCausalLM ref = TorchCausalLM.of(manager, cfg, w);
        ref.loraR = lc.r();
        ref.loraScale = lc.scaling();
        ref.logits(ids, B, T, pos, mask);
        for (NDArray p : ref.created().values()) p.setRequiresGradient(true);
        double[] refLp;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray lsm = ref.logits(ids, B, T, pos, mask).reshape(B * T, V).logSoftmax(-1);
            double[] oh = new double[B * T * V];
            for (int i = 0; i < B * T; i++) if (targets[i] >= 0) oh[i * V + targets[i]] = 1;
            NDArray lp = lsm.mul(manager.create(oh, new Shape(B * T, V))).sum(new int[] {1});
            gc.backward(lp.mul(manager.create(a).toType(DataType.FLOAT64, false)).sum());
            refLp = lp.toDoubleArray();
        }
        TorchRef.assertClose(name + " logprobs", CausalLMTorchTest.toFloat(refLp), s.logprobs().data(),
                CausalLMTorchTest.LP_ATOL, CausalLMTorchTest.LP_RTOL);
        int checked = 0;
        for (Parameter p : ad.parameters()) {
            float[] e = ref.created().get(p.name().substring(LoraAdapters.PEFT_PREFIX.length())).getGradient()
                    .toType(DataType.FLOAT32, false).toFloatArray();
            double max = 0;
            for (float x : e) max = Math.max(max, Math.abs(x));
            assertTrue(max > 0, name + ": reference gradient of " + p.name() + " is zero; the check would be empty");
            TorchRef.assertClose(name + " grad " + p.name(), e, p.gradData(), CausalLMTorchTest.GRAD_REL * max + 1e-9, 1e-3);
            checked++;
        }
        assertEquals(2 * cfg.numLayers() * lc.targetModules().size(), checked);
    }
}

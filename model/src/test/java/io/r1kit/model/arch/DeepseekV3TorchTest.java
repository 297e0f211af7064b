package io.r1kit.model.arch;

import io.r1kit.model.ops.F;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DeepSeek-V3 (MLA + DeepSeekMoE) logits, teacher-forced log-probs and every parameter's gradient
 * against the independent float64 libtorch model {@link TorchDeepseekV3}, on a ragged batch, for
 * tiny configs covering q_lora_rank set and null, interleaved and plain RoPE, yarn with mscale /
 * mscale_all_dim, value heads narrower and wider than the query/key heads, shared experts or none,
 * dense first layers, group-limited routing with a non-zero correction bias, and MTP weights present.
 */
class DeepseekV3TorchTest {
    /** Same float32-vs-float64 budget as CausalLMTorchTest (K ≤ 64 GEMMs, three blocks): observed ~1e-6. */
    static final double LOGIT_ATOL = 5e-5, LOGIT_RTOL = 1e-5;
    static final double GRAD_REL = 1e-4;
    static final int B = 2, T = 10, PAD = 3;

    static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    static Stream<Arguments> configs() {
        return Stream.of(Arguments.of("qlora-interleave-yarn-mtp", DeepseekV3TestModels.qloraYarnMtp()),
                Arguments.of("plainq-v-wider-shared2-tied", DeepseekV3TestModels.plainQ()),
                Arguments.of("noshared-yarn-mscale-2mtp", DeepseekV3TestModels.noSharedYarn()));
    }

    static int[] positions() {
        return CausalLMTorchTest.positions();
    }

    static byte[] keyMask() {
        return CausalLMTorchTest.keyMask();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logitsMatchTorch(String name, ModelConfig cfg) {
        CausalLM m = DeepseekV3TestModels.model(cfg, 31);
        int[] ids = ArchTestSupport.randomIds(33, B * T, cfg.vocabSize());
        Tensor ours = m.forward(ids, B, T, positions(), keyMask());
        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, DeepseekV3TestModels.weights(m));
        float[] theirs = ref.logits(ids, B, T, positions(), keyMask()).toType(DataType.FLOAT32, false).toFloatArray();
        int V = cfg.vocabSize();
        TorchRef.assertClose(name + " logits", CausalLMTorchTest.realRows(theirs, V), CausalLMTorchTest.realRows(ours.data(), V),
                LOGIT_ATOL, LOGIT_RTOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logprobsAndGradientsMatchTorch(String name, ModelConfig cfg) {
        CausalLM m = DeepseekV3TestModels.model(cfg, 41);
        int V = cfg.vocabSize();
        int[] ids = ArchTestSupport.randomIds(43, B * T, V);
        int[] pos = positions();
        byte[] mask = keyMask();
        int[] targets = new int[B * T];
        for (int r = 0; r < B * T; r++) targets[r] = CausalLMTorchTest.real(r) && r % T < T - 1 ? ids[r + 1] : -1;
        float[] a = TorchRef.randn(44, B * T).data();
        for (int r = 0; r < B * T; r++) if (!CausalLMTorchTest.real(r)) a[r] = 0;

        TokenScores s = m.scoreTokens(ids, B, T, pos, mask, targets, 1f, false);
        F.sum(F.mul(s.logprobs(), Tensor.wrap(a, B, T))).backward();

        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, DeepseekV3TestModels.weights(m));
        ref.logits(ids, B, T, pos, mask);
        for (NDArray p : ref.created().values()) p.setRequiresGradient(true);
        double[] refLp;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray lsm = ref.logits(ids, B, T, pos, mask).reshape(B * T, V).logSoftmax(-1);
            double[] oh = new double[B * T * V];
            for (int r = 0; r < B * T; r++) if (targets[r] >= 0) oh[r * V + targets[r]] = 1;
            NDArray lp = lsm.mul(manager.create(oh, new Shape(B * T, V))).sum(new int[] {1});
            gc.backward(lp.mul(manager.create(a).toType(DataType.FLOAT64, false)).sum());
            refLp = lp.toDoubleArray();
        }
        TorchRef.assertClose(name + " logprobs", CausalLMTorchTest.toFloat(refLp), s.logprobs().data(), LOGIT_ATOL, LOGIT_RTOL);
        int compared = 0;
        for (Parameter p : m.parameters()) {
            NDArray refP = ref.created().get(p.name());
            if (refP == null) continue;   // MTP modules do not take part in the logits
            float[] e = refP.getGradient().toType(DataType.FLOAT32, false).toFloatArray();
            double max = 0;
            for (float x : e) max = Math.max(max, Math.abs(x));
            // an expert no token chose gets no gradient at all; torch's dense reference gives it zeros
            float[] g = p.gradData() != null ? p.gradData() : new float[e.length];
            TorchRef.assertClose(name + " grad " + p.name(), e, g, GRAD_REL * max + 1e-9, 1e-3);
            compared++;
        }
        int mtpParams = 0;
        for (MtpModule md : m.mtpModules()) mtpParams += md.parameters().size();
        org.junit.jupiter.api.Assertions.assertEquals(m.parameters().size() - mtpParams, compared, "every non-MTP parameter compared");
    }
}

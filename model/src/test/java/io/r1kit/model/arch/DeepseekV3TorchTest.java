package io.r1kit.model.arch;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
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

    /** q_lora 24, interleaved RoPE, yarn (factor 4, mscale 1, mscale_all_dim 0.8), v 12 < qk 16, 8 experts in 4 groups, 1 MTP module. */
    static ModelConfig qloraYarnMtp() {
        DeepseekV3Params d = new DeepseekV3Params(24, 16, 8, 8, 12, true, 8, 1, 2, 4, 2, 2.5, true, 1, 16, 1, 0);
        HfModelConfig.RopeScaling yarn = HfModelConfig.RopeScaling.yarn(4, 64, new HfModelConfig.Yarn(1.0, 0.8, 32, 1, Double.NaN));
        return ModelConfig.deepseekV3(67, 48, 64, 3, 4, d).withRope(10000.0, RopeTables.Scaling.none(), 256).withYarn(yarn);
    }

    /** plain q_proj, non-interleaved RoPE, v 20 > qk 16, 6 experts in one group, 2 shared, no normalisation, every layer MoE, tied. */
    static ModelConfig plainQ() {
        DeepseekV3Params d = new DeepseekV3Params(0, 12, 10, 6, 20, false, 6, 2, 3, 1, 1, 1.0, false, 0, 12, 0, 0);
        return ModelConfig.deepseekV3(59, 40, 48, 2, 3, d).withTieEmbeddings(true).withRope(500.0, RopeTables.Scaling.none(), 128);
    }

    /** No shared experts, yarn with mscale only (attention factor from mscale(factor)), 2 MTP modules. */
    static ModelConfig noSharedYarn() {
        DeepseekV3Params d = new DeepseekV3Params(16, 8, 4, 4, 4, true, 8, 0, 3, 2, 1, 1.5, true, 1, 8, 2, 0);
        HfModelConfig.RopeScaling yarn = HfModelConfig.RopeScaling.yarn(8, 32, new HfModelConfig.Yarn(0, 0, 32, 1, Double.NaN));
        return ModelConfig.deepseekV3(41, 32, 40, 2, 2, d).withRope(10000.0, RopeTables.Scaling.none(), 256).withYarn(yarn);
    }

    static Stream<Arguments> configs() {
        return Stream.of(Arguments.of("qlora-interleave-yarn-mtp", qloraYarnMtp()),
                Arguments.of("plainq-v-wider-shared2-tied", plainQ()),
                Arguments.of("noshared-yarn-mscale-2mtp", noSharedYarn()));
    }

    /** A random model with perturbed norms and a non-zero correction bias (so the bias really changes choices). */
    static CausalLM model(ModelConfig cfg, long seed) {
        CausalLM m = CausalLM.random(cfg, seed);
        ArchTestSupport.perturb(m, seed + 1);
        SplittableRandom r = new SplittableRandom(seed + 2);
        for (Parameter b : m.buffers()) {
            float[] v = new float[b.numel()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (0.1 * r.nextGaussian());
            b.copyFrom(v);
        }
        return m;
    }

    static Map<String, float[]> weights(CausalLM m) {
        Map<String, float[]> w = new LinkedHashMap<>(ArchTestSupport.weights(m));
        for (Parameter b : m.buffers()) w.put(b.name(), b.data().clone());
        return w;
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
        CausalLM m = model(cfg, 31);
        int[] ids = ArchTestSupport.randomIds(33, B * T, cfg.vocabSize());
        Tensor ours = m.forward(ids, B, T, positions(), keyMask());
        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, weights(m));
        float[] theirs = ref.logits(ids, B, T, positions(), keyMask()).toType(DataType.FLOAT32, false).toFloatArray();
        int V = cfg.vocabSize();
        TorchRef.assertClose(name + " logits", CausalLMTorchTest.realRows(theirs, V), CausalLMTorchTest.realRows(ours.data(), V),
                LOGIT_ATOL, LOGIT_RTOL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void logprobsAndGradientsMatchTorch(String name, ModelConfig cfg) {
        CausalLM m = model(cfg, 41);
        int V = cfg.vocabSize();
        int[] ids = ArchTestSupport.randomIds(43, B * T, V);
        int[] pos = positions();
        byte[] mask = keyMask();
        int[] targets = new int[B * T];
        for (int r = 0; r < B * T; r++) targets[r] = CausalLMTorchTest.real(r) && r % T < T - 1 ? ids[r + 1] : -1;
        float[] a = TorchRef.randn(44, B * T).data();
        for (int r = 0; r < B * T; r++) if (!CausalLMTorchTest.real(r)) a[r] = 0;

        TokenScores s = m.scoreTokens(ids, B, T, pos, mask, targets, 1f, false);
        s.logprobs().mul(Tensor.wrap(a, B, T)).sum().backward();

        TorchDeepseekV3 ref = TorchDeepseekV3.of(manager, cfg, weights(m));
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

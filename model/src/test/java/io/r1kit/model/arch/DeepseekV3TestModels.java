package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.tensor.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Tiny DeepSeek-V3 configs and random models shared by the DeepSeek-V3 tests. */
public final class DeepseekV3TestModels {
    private DeepseekV3TestModels() {}

    /** q_lora 24, interleaved RoPE, yarn (factor 4, mscale 1, mscale_all_dim 0.8), v 12 < qk 16, 8 experts in 4 groups, 1 MTP module. */
    public static ModelConfig qloraYarnMtp() {
        DeepseekV3Params d = new DeepseekV3Params(24, 16, 8, 8, 12, true, 8, 1, 2, 4, 2, 2.5, true, 1, 16, 1, 0);
        HfModelConfig.RopeScaling yarn = HfModelConfig.RopeScaling.yarn(4, 64, new HfModelConfig.Yarn(1.0, 0.8, 32, 1, Double.NaN));
        return ModelConfig.deepseekV3(67, 48, 64, 3, 4, d).withRope(10000.0, RopeTables.Scaling.none(), 256).withYarn(yarn);
    }

    /** plain q_proj, non-interleaved RoPE, v 20 > qk 16, 6 experts in one group, 2 shared, no normalisation, every layer MoE, tied. */
    public static ModelConfig plainQ() {
        DeepseekV3Params d = new DeepseekV3Params(0, 12, 10, 6, 20, false, 6, 2, 3, 1, 1, 1.0, false, 0, 12, 0, 0);
        return ModelConfig.deepseekV3(59, 40, 48, 2, 3, d).withTieEmbeddings(true).withRope(500.0, RopeTables.Scaling.none(), 128);
    }

    /** No shared experts, yarn with mscale only (attention factor from mscale(factor)), 2 MTP modules. */
    public static ModelConfig noSharedYarn() {
        DeepseekV3Params d = new DeepseekV3Params(16, 8, 4, 4, 4, true, 8, 0, 3, 2, 1, 1.5, true, 1, 8, 2, 0);
        HfModelConfig.RopeScaling yarn = HfModelConfig.RopeScaling.yarn(8, 32, new HfModelConfig.Yarn(0, 0, 32, 1, Double.NaN));
        return ModelConfig.deepseekV3(41, 32, 40, 2, 2, d).withRope(10000.0, RopeTables.Scaling.none(), 256).withYarn(yarn);
    }

    /** A random model with perturbed norms and a non-zero correction bias (so the bias really changes choices). */
    public static CausalLM model(ModelConfig cfg, long seed) {
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

    public static Map<String, float[]> weights(CausalLM m) {
        Map<String, float[]> w = new LinkedHashMap<>(ArchTestSupport.weights(m));
        for (Parameter b : m.buffers()) w.put(b.name(), b.data().clone());
        return w;
    }

}

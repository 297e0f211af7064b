package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DeepSeek-V3's attention (MLA) and DeepSeekMoE sub-blocks on their own, as a model builds them:
 * random weights from a seed (init std of the config), a differentiable forward on an input
 * [B, T, C], positions 0..T-1, no padding. {@code bin/r1kit bench} times them against libtorch.
 */
public final class DeepseekV3Blocks {
    private DeepseekV3Blocks() {}

    /** One sub-block: its parameters (Hugging Face names of layer 0) and its forward. */
    public interface Block {
        List<Parameter> parameters();

        /** x [B, T, C] → [B, T, C]. */
        Tensor forward(Tensor x, int B, int T);
    }

    /** Multi-head latent attention of {@code c} (its RoPE tables: yarn when the config has it). */
    public static Block mla(ModelConfig c, long seed) {
        MlaAttention a = new MlaAttention(c, "model.layers.0.self_attn.", new SplittableRandom(seed), (float) c.initStd());
        RopeTables rope = c.yarn() != null ? YarnRope.tables(c.headDim(), c.maxPositions(), c.ropeTheta(), c.yarn())
                : RopeTables.build(c.headDim(), c.maxPositions(), c.ropeTheta(), c.ropeScaling());
        return new Block() {
            @Override
            public List<Parameter> parameters() {
                return a.parameters();
            }

            @Override
            public Tensor forward(Tensor x, int B, int T) {
                return a.forward(x, B, T, F.positions(B, T), null, rope);
            }
        };
    }

    /** The softmax scale MLA uses for {@code c}: 1/sqrt(qk_nope + qk_rope) times yarn's mscale². */
    public static double mlaSoftmaxScale(ModelConfig c) {
        return YarnRope.softmaxScale(c.deepseek().qkHeadDim(), c.yarn());
    }

    /** DeepSeekMoE of {@code c} (routed experts, router, shared experts); the correction bias is 0. */
    public static Block moe(ModelConfig c, long seed) {
        DeepseekMoe m = new DeepseekMoe(c, "model.layers.0.mlp.", new SplittableRandom(seed), (float) c.initStd());
        return new Block() {
            @Override
            public List<Parameter> parameters() {
                return m.parameters();
            }

            @Override
            public Tensor forward(Tensor x, int B, int T) {
                Tensor y = m.forward(x, B, T, null);
                m.resetLoad();
                return y;
            }
        };
    }
}

package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One DeepSeek-V3 decoder block, transformers' DeepseekV3DecoderLayer:
 * {@code h = x + mla(rms(x)); y = h + mlp(rms(h))}, the MLP dense for the first
 * first_k_dense_replace layers and DeepSeekMoE after. Parameter names and order are
 * transformers' ({@code model.layers.N.self_attn.kv_b_proj.weight}, {@code .mlp.experts.E.up_proj.weight}, ...).
 */
public final class DeepseekV3Layer {
    private final ModelConfig cfg;
    private final int index;
    final MlaAttention attn;
    final SwiGluMlp dense;     // null in MoE layers
    final DeepseekMoe moe;     // null in dense layers
    final Parameter inputNorm, postNorm;
    private final List<Parameter> params = new ArrayList<>();
    private boolean bf16;

    DeepseekV3Layer(ModelConfig c, int index, RandomGenerator rng) {
        this.cfg = c;
        this.index = index;
        float std = (float) c.initStd();
        String p = "model.layers." + index + ".";
        attn = new MlaAttention(c, p + "self_attn.", rng, std);
        params.addAll(attn.parameters());
        if (c.deepseek().isMoeLayer(index)) {
            dense = null;
            moe = new DeepseekMoe(c, p + "mlp.", rng, std);
            params.addAll(moe.parameters());
        } else {
            dense = new SwiGluMlp(p + "mlp.", c.hiddenSize(), c.intermediateSize(), rng, std);
            moe = null;
            params.addAll(dense.parameters());
        }
        inputNorm = DecoderLayer.ones(p + "input_layernorm.weight", c.hiddenSize());
        postNorm = DecoderLayer.ones(p + "post_attention_layernorm.weight", c.hiddenSize());
        params.add(inputNorm);
        params.add(postNorm);
    }

    public int index() {
        return index;
    }

    /** Trainable parameters in state_dict order (the router's correction bias is a buffer: {@link #expertBias()}). */
    public List<Parameter> parameters() {
        return List.copyOf(params);
    }

    /** The router's e_score_correction_bias, or null in a dense layer. */
    public Parameter expertBias() {
        return moe == null ? null : moe.bias;
    }

    /** Mixed precision on or off ({@link CausalLM#precision}): every projection reads its bf16 weight copy. */
    void bf16(boolean on) {
        attn.bf16(on);
        if (moe != null) moe.bf16(on);
        else dense.bf16(on);
        bf16 = on;
    }

    boolean bf16() {
        return bf16;
    }

    DeepseekMoe moe() {
        return moe;
    }

    MlaAttention attention() {
        return attn;
    }

    /** x [B, T, C] → [B, T, C]. */
    Tensor forward(Tensor x, int B, int T, int[] pos, byte[] keyMask, RopeTables rope) {
        float eps = (float) cfg.rmsEps();
        Tensor h = F.add(x, attn.forward(F.rmsNorm(x, inputNorm, eps), B, T, pos, keyMask, rope));
        Tensor n = F.rmsNorm(h, postNorm, eps);
        Tensor m = moe != null ? moe.forward(n, B, T, keyMask) : dense.forward(n, true);
        return F.reshape(F.add(h, m), B, T, cfg.hiddenSize());
    }
}

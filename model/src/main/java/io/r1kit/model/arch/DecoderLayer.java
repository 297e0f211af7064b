package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.fp8.Fp8Recipe;
import io.r1kit.model.lora.LoraLayer;
import io.r1kit.model.ops.F;
import io.r1kit.model.ops.OnDevice;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * One pre-norm decoder block, exactly transformers' LlamaDecoderLayer / Qwen2DecoderLayer /
 * Qwen3DecoderLayer:
 * <pre>
 *   h = x + o_proj(attn(rope(qk_norm(q_proj(rms(x)))), rope(qk_norm(k_proj(rms(x)))), v_proj(rms(x))))
 *   y = h + down_proj(silu(gate_proj(rms(h))) * up_proj(rms(h)))
 * </pre>
 * Parameters carry the Hugging Face names ({@code model.layers.N.self_attn.q_proj.weight}, ...) and
 * are listed in the order transformers' state_dict lists them.
 */
public final class DecoderLayer {
    private final ModelConfig cfg;
    private final int index;
    final Parameter qW, qB, kW, kB, vW, vB, oW, oB, qNorm, kNorm;
    final Parameter gateW, gateB, upW, upB, downW, downB;
    final Parameter inputNorm, postNorm;
    private final List<Parameter> params = new ArrayList<>();
    private boolean bf16;
    private Fp8Recipe fp8; // non-null: the projections train in FP8 (precision fp8, host)
    LoraLayer lora;        // non-null: LoRA adapters add their term to the targeted projections (CausalLM.attachLora)

    DecoderLayer(ModelConfig c, int index, RandomGenerator rng) {
        this.cfg = c;
        this.index = index;
        int C = c.hiddenSize(), D = c.headDim(), q = c.numHeads() * D, kv = c.numKvHeads() * D, I = c.intermediateSize();
        float std = (float) c.initStd();
        String p = "model.layers." + index + ".";
        qW = add(mat(p + "self_attn.q_proj.weight", rng, std, q, C));
        qB = c.qkvBias() ? add(Parameter.zeros(p + "self_attn.q_proj.bias", q)) : null;
        kW = add(mat(p + "self_attn.k_proj.weight", rng, std, kv, C));
        kB = c.qkvBias() ? add(Parameter.zeros(p + "self_attn.k_proj.bias", kv)) : null;
        vW = add(mat(p + "self_attn.v_proj.weight", rng, std, kv, C));
        vB = c.qkvBias() ? add(Parameter.zeros(p + "self_attn.v_proj.bias", kv)) : null;
        oW = add(mat(p + "self_attn.o_proj.weight", rng, std, C, q));
        oB = c.outputBias() ? add(Parameter.zeros(p + "self_attn.o_proj.bias", C)) : null;
        qNorm = c.qkNorm() ? add(ones(p + "self_attn.q_norm.weight", D)) : null;
        kNorm = c.qkNorm() ? add(ones(p + "self_attn.k_norm.weight", D)) : null;
        gateW = add(mat(p + "mlp.gate_proj.weight", rng, std, I, C));
        gateB = c.mlpBias() ? add(Parameter.zeros(p + "mlp.gate_proj.bias", I)) : null;
        upW = add(mat(p + "mlp.up_proj.weight", rng, std, I, C));
        upB = c.mlpBias() ? add(Parameter.zeros(p + "mlp.up_proj.bias", I)) : null;
        downW = add(mat(p + "mlp.down_proj.weight", rng, std, C, I));
        downB = c.mlpBias() ? add(Parameter.zeros(p + "mlp.down_proj.bias", C)) : null;
        inputNorm = add(ones(p + "input_layernorm.weight", C));
        postNorm = add(ones(p + "post_attention_layernorm.weight", C));
    }

    /** A weight matrix: normal(0, std) from rng, or zeros when rng is null (to be overwritten by a checkpoint). */
    static Parameter mat(String name, RandomGenerator rng, float std, int... shape) {
        return rng == null ? Parameter.zeros(name, shape) : Parameter.randn(name, rng, std, shape);
    }

    static Parameter ones(String name, int n) {
        float[] d = new float[n];
        java.util.Arrays.fill(d, 1f);
        return new Parameter(name, d, n);
    }

    private Parameter add(Parameter p) {
        params.add(p);
        return p;
    }

    public int index() {
        return index;
    }

    /** This block's parameters in state_dict order. */
    public List<Parameter> parameters() {
        return List.copyOf(params);
    }

    // Accessors for the cached decode path (io.r1kit.model.generate), which runs the same math on raw buffers.
    public Parameter qProj() { return qW; }
    public Parameter qBias() { return qB; }
    public Parameter kProj() { return kW; }
    public Parameter kBias() { return kB; }
    public Parameter vProj() { return vW; }
    public Parameter vBias() { return vB; }
    public Parameter oProj() { return oW; }
    public Parameter oBias() { return oB; }
    public Parameter qNorm() { return qNorm; }
    public Parameter kNorm() { return kNorm; }
    public Parameter gateProj() { return gateW; }
    public Parameter gateBias() { return gateB; }
    public Parameter upProj() { return upW; }
    public Parameter upBias() { return upB; }
    public Parameter downProj() { return downW; }
    public Parameter downBias() { return downB; }
    public Parameter inputNorm() { return inputNorm; }
    public Parameter postAttentionNorm() { return postNorm; }

    /** Mixed precision on or off (CausalLM.precision): the projections read bf16 weight copies and bf16 inputs. */
    void bf16(boolean on) {
        bf16 = on;
        for (Parameter w : new Parameter[] {qW, kW, vW, oW, gateW, upW, downW}) w.readBf16Copy(on);
    }

    boolean bf16() {
        return bf16;
    }

    /** FP8 training of the projections with this recipe, or off (null). */
    void fp8(Fp8Recipe recipe) {
        fp8 = recipe;
    }

    Fp8Recipe fp8() {
        return fp8;
    }

    /** In bf16 precision, a projection input that only GEMMs read is stored in bf16 (what their backward saves). */
    private Tensor gemmInput(Tensor t) {
        // bf16 storage exists on devices only (their bf16 GEMMs read it); a host activation stays fp32
        return bf16 && t.isOnDevice() ? t.storeAsBf16() : t;
    }

    private Tensor linear(Tensor x, Parameter w, Parameter b) {
        Tensor y;
        if (fp8 != null) {
            y = F.linearFp8(x, w, fp8);
            if (b != null) y = F.add(y, b);
        } else {
            y = b == null ? F.linear(x, w) : F.linear(x, w, b);
        }
        return lora == null ? y : lora.apply(w, x, y);
    }

    /**
     * x [B, T, C] → [B, T, C]. pos [B·T] absolute positions (per row, so left padding works),
     * keyMask [B·T] (null = no padding). When {@code sink} is given, it receives this layer's
     * roped keys and values [B, T, Hkv, D] (prefill of the KV cache).
     */
    Tensor forward(Tensor x, int B, int T, int[] pos, byte[] keyMask, RopeTables rope, KvSink sink) {
        int Hq = cfg.numHeads(), Hkv = cfg.numKvHeads(), D = cfg.headDim(), C = cfg.hiddenSize();
        float eps = (float) cfg.rmsEps();
        Tensor h = gemmInput(F.rmsNorm(x, inputNorm, eps));
        Tensor q = F.reshape(linear(h, qW, qB), B, T, Hq, D);
        Tensor k = F.reshape(linear(h, kW, kB), B, T, Hkv, D);
        Tensor v = F.reshape(linear(h, vW, vB), B, T, Hkv, D);
        if (cfg.qkNorm()) {
            q = F.rmsNorm(q, qNorm, eps);
            k = F.rmsNorm(k, kNorm, eps);
        }
        q = F.rope(q, pos, rope);
        k = F.rope(k, pos, rope);
        if (sink != null) {
            OnDevice.requireHost("KV-cache prefill (KvSink)", k, v);
            sink.accept(index, k.data(), v.data(), B, T);
        }
        Tensor a = F.reshape(F.attention(q, k, v, keyMask, 0, (float) (1.0 / Math.sqrt(D))), B, T, Hq * D);
        Tensor hAttn = F.add(x, linear(a, oW, oB));
        Tensor h2 = gemmInput(F.rmsNorm(hAttn, postNorm, eps));
        Tensor act = gemmInput(F.swiglu(linear(h2, gateW, gateB), linear(h2, upW, upB)));
        return F.reshape(F.add(hAttn, linear(act, downW, downB)), B, T, C);
    }
}

package io.r1kit.model.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/**
 * An independent libtorch (DJL) implementation of the Llama / Qwen2 / Qwen3 forward pass, written
 * from the math of transformers' modeling_llama / modeling_qwen2 / modeling_qwen3 (not from the
 * r1kit Java code), run in float64 so that it is the "truth" the float32 model is compared with.
 *
 * <p>Hyper-parameters are plain fields (the caller copies them out of config.json or a
 * ModelConfig); weights are looked up by their Hugging Face names. RoPE inverse frequencies,
 * including Llama 3's rope scaling, are recomputed here from transformers'
 * {@code _compute_default_rope_parameters} / {@code _compute_llama3_parameters}.
 */
public final class TorchCausalLM {
    public String family;          // "llama", "qwen2", "qwen3"
    public int vocab, hidden, layers, heads, kvHeads, headDim, ffn;
    public double theta = 10000, eps = 1e-6;
    public boolean tie, qkvBias, oBias, mlpBias, qkNorm;
    /** llama3 rope scaling: factor, low, high, original max (factor 0 = none). */
    public double ropeFactor, ropeLow, ropeHigh, ropeOrigMax;
    public String ropeType = "default";
    /** LoRA: rank and alpha / r; a projection whose {@code <prefix>.lora_A.weight} is among the weights adds its adapter term. */
    public int loraR;
    public double loraScale;

    private final NDManager nd;
    private final Map<String, float[]> w;

    public TorchCausalLM(NDManager manager, Map<String, float[]> weights) {
        this.nd = manager;
        this.w = weights;
    }

    /** Copies hyper-parameters from a ModelConfig (a plain data record). */
    public static TorchCausalLM of(NDManager m, ModelConfig c, Map<String, float[]> weights) {
        TorchCausalLM t = new TorchCausalLM(m, weights);
        t.family = c.family().modelType();
        t.vocab = c.vocabSize();
        t.hidden = c.hiddenSize();
        t.layers = c.numLayers();
        t.heads = c.numHeads();
        t.kvHeads = c.numKvHeads();
        t.headDim = c.headDim();
        t.ffn = c.intermediateSize();
        t.theta = c.ropeTheta();
        t.eps = c.rmsEps();
        t.tie = c.tieEmbeddings();
        t.qkvBias = c.qkvBias();
        t.oBias = c.outputBias();
        t.mlpBias = c.mlpBias();
        t.qkNorm = c.qkNorm();
        switch (c.ropeScaling().type()) {
            case DEFAULT -> t.ropeType = "default";
            case LINEAR -> { t.ropeType = "linear"; t.ropeFactor = c.ropeScaling().factor(); }
            case LLAMA3 -> {
                t.ropeType = "llama3";
                t.ropeFactor = c.ropeScaling().factor();
                t.ropeLow = c.ropeScaling().lowFreqFactor();
                t.ropeHigh = c.ropeScaling().highFreqFactor();
                t.ropeOrigMax = c.ropeScaling().originalMaxPositionEmbeddings();
            }
        }
        return t;
    }

    private final Map<String, NDArray> cache = new java.util.HashMap<>();

    /** The float64 NDArray of a weight (created once, so a caller can make it require gradients). */
    public NDArray p(String name, long... shape) {
        NDArray a = cache.get(name);
        if (a == null) {
            float[] v = w.get(name);
            if (v == null) throw new IllegalArgumentException("torch reference: missing weight " + name);
            a = nd.create(v, new Shape(shape)).toType(DataType.FLOAT64, false);
            cache.put(name, a);
        }
        return a;
    }

    /** The weights created so far (after one forward: all of them), by name. */
    public Map<String, NDArray> created() {
        return cache;
    }

    private NDArray linear(NDArray x, String prefix, long out, long in, boolean bias) {
        NDArray y = x.matMul(p(prefix + ".weight", out, in).transpose());
        if (bias) y = y.add(p(prefix + ".bias", out));
        if (w.containsKey(prefix + ".lora_A.weight")) {
            // PEFT's LoRA forward: y + (x · Aᵀ) · Bᵀ · alpha / r
            NDArray a = p(prefix + ".lora_A.weight", loraR, in), b = p(prefix + ".lora_B.weight", out, loraR);
            y = y.add(x.matMul(a.transpose()).matMul(b.transpose()).mul(loraScale));
        }
        return y;
    }

    private NDArray rms(NDArray x, NDArray weight) {
        NDArray var = x.pow(2).mean(new int[] {-1}, true);
        return x.mul(var.add(eps).sqrt().pow(-1)).mul(weight);
    }

    /** transformers' inv_freq (double precision here). */
    double[] invFreq() {
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(theta, (double) (2 * i) / headDim);
        if (ropeType.equals("llama3")) {
            double lowWl = ropeOrigMax / ropeLow, highWl = ropeOrigMax / ropeHigh;
            for (int i = 0; i < half; i++) {
                double wl = 2 * Math.PI / inv[i];
                double scaled = wl > lowWl ? inv[i] / ropeFactor : inv[i];
                double smooth = (ropeOrigMax / wl - ropeLow) / (ropeHigh - ropeLow);
                boolean medium = !(wl < highWl) && !(wl > lowWl);
                inv[i] = medium ? (1 - smooth) * scaled / ropeFactor + smooth * scaled : scaled;
            }
        }
        return inv;
    }

    /** x [B, T, H, D] rotated by positions pos [B*T]: x*cos + rotate_half(x)*sin, cos = cat(f, f). */
    private NDArray rope(NDArray x, int[] pos, int B, int T) {
        double[] inv = invFreq();
        double posScale = ropeType.equals("linear") ? 1.0 / ropeFactor : 1.0;
        int D = headDim, half = D / 2;
        double[] cos = new double[B * T * D], sin = new double[B * T * D];
        for (int r = 0; r < B * T; r++) {
            for (int i = 0; i < D; i++) {
                double ang = pos[r] * posScale * inv[i % half];
                cos[r * D + i] = Math.cos(ang);
                sin[r * D + i] = Math.sin(ang);
            }
        }
        NDArray c = nd.create(cos, new Shape(B, T, 1, D)), s = nd.create(sin, new Shape(B, T, 1, D));
        NDArray x1 = x.get(new NDIndex(":, :, :, 0:" + half)), x2 = x.get(new NDIndex(":, :, :, " + half + ":"));
        NDArray rot = NDArrays.concat(new NDList(x2.neg(), x1), 3);
        return x.mul(c).add(rot.mul(s));
    }

    /** Logits [B, T, V] in float64. ids [B*T]; pos [B*T]; keyMask [B*T] (null = all real). */
    public NDArray logits(int[] ids, int B, int T, int[] pos, byte[] keyMask) {
        int C = hidden, D = headDim, N = B * T;
        double[] onehot = new double[N * vocab];
        for (int i = 0; i < N; i++) onehot[i * vocab + ids[i]] = 1;
        NDArray x = nd.create(onehot, new Shape(N, vocab)).matMul(p("model.embed_tokens.weight", vocab, C)).reshape(B, T, C);
        // additive mask [B, 1, T, T]: query i sees key j iff j <= i and key j is real
        double[] add = new double[B * T * T];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    boolean vis = j <= i && (keyMask == null || keyMask[b * T + j] != 0);
                    add[(b * T + i) * T + j] = vis ? 0 : -1e30;
                }
        NDArray maskAdd = nd.create(add, new Shape(B, 1, T, T));
        int group = heads / kvHeads;
        for (int l = 0; l < layers; l++) {
            String pre = "model.layers." + l + ".";
            NDArray h = rms(x, p(pre + "input_layernorm.weight", C));
            NDArray q = linear(h, pre + "self_attn.q_proj", (long) heads * D, C, qkvBias).reshape(B, T, heads, D);
            NDArray k = linear(h, pre + "self_attn.k_proj", (long) kvHeads * D, C, qkvBias).reshape(B, T, kvHeads, D);
            NDArray v = linear(h, pre + "self_attn.v_proj", (long) kvHeads * D, C, qkvBias).reshape(B, T, kvHeads, D);
            if (qkNorm) {
                q = rms(q, p(pre + "self_attn.q_norm.weight", D));
                k = rms(k, p(pre + "self_attn.k_norm.weight", D));
            }
            q = rope(q, pos, B, T).transpose(0, 2, 1, 3);     // [B, Hq, T, D]
            k = rope(k, pos, B, T).transpose(0, 2, 1, 3);     // [B, Hkv, T, D]
            v = v.transpose(0, 2, 1, 3);
            // repeat_kv: query head h reads kv head h / group
            NDList ks = new NDList(), vs = new NDList();
            for (int hh = 0; hh < heads; hh++) {
                int kh = hh / group;
                ks.add(k.get(new NDIndex(":, " + kh + ":" + (kh + 1))));
                vs.add(v.get(new NDIndex(":, " + kh + ":" + (kh + 1))));
            }
            NDArray kr = NDArrays.concat(ks, 1), vr = NDArrays.concat(vs, 1);
            NDArray scores = q.matMul(kr.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(D)).add(maskAdd);
            NDArray att = scores.softmax(-1).matMul(vr).transpose(0, 2, 1, 3).reshape(B, T, (long) heads * D);
            x = x.add(linear(att, pre + "self_attn.o_proj", C, (long) heads * D, oBias));
            NDArray h2 = rms(x, p(pre + "post_attention_layernorm.weight", C));
            NDArray g = linear(h2, pre + "mlp.gate_proj", ffn, C, mlpBias);
            NDArray u = linear(h2, pre + "mlp.up_proj", ffn, C, mlpBias);
            NDArray silu = g.div(g.neg().exp().add(1));
            x = x.add(linear(silu.mul(u), pre + "mlp.down_proj", C, ffn, mlpBias));
        }
        x = rms(x, p("model.norm.weight", C));
        String head = tie ? "model.embed_tokens.weight" : "lm_head.weight";
        return x.matMul(p(head, vocab, C).transpose());
    }

    /** log p(target) per row, [N] (target < 0 → 0), from logits [.., V] (float64). */
    public static double[] tokenLogProbs(NDArray logits, int[] targets, double temperature) {
        long V = logits.getShape().get(logits.getShape().dimension() - 1);
        double[] lsm = logits.div(temperature).logSoftmax(-1).toType(DataType.FLOAT64, false).toDoubleArray();
        double[] out = new double[targets.length];
        for (int i = 0; i < targets.length; i++) out[i] = targets[i] < 0 ? 0 : lsm[(int) (i * V + targets[i])];
        return out;
    }
}

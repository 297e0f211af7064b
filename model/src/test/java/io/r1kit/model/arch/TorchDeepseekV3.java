package io.r1kit.model.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * An independent libtorch (DJL) DeepSeek-V3 forward in float64, written from transformers'
 * modeling_deepseek_v3 (DeepseekV3Attention, DeepseekV3TopkRouter, DeepseekV3MoE) and
 * modeling_rope_utils' {@code _compute_yarn_parameters}, not from the r1kit Java code:
 * q / kv low-rank projections on [B, H, T, d] tensors, RoPE with cos/sin = cat(freqs, freqs) ·
 * attention_factor and the interleave by view/transpose, an additive causal mask, and the MoE as a
 * DENSE sum over every expert with a [N, E] weight matrix that is zero off the chosen experts
 * (so nothing of r1kit's grouping or gathering is shared). Expert choice sorts each token's
 * choice scores (index order breaking ties) after masking the groups outside the top topk_group.
 */
public final class TorchDeepseekV3 {
    public int vocab, hidden, layers, heads, ffn;
    public int qLora, kvLora, dNope, dRope, dV;
    public boolean interleave, tie;
    public int E, nShared, topK, nGroup, topkGroup, firstDense, moeFfn;
    public double rsf = 1, theta = 10000, eps = 1e-6;
    public boolean normTopk = true;
    /** yarn: factor (0 = no yarn), original max positions, mscale, mscale_all_dim, beta fast/slow. */
    public double yFactor, yOrig, yMscale, yMscaleAll, yBetaFast = 32, yBetaSlow = 1;

    private final NDManager nd;
    private final Map<String, float[]> w;
    private final Map<String, NDArray> cache = new HashMap<>();

    public TorchDeepseekV3(NDManager manager, Map<String, float[]> weights) {
        this.nd = manager;
        this.w = weights;
    }

    public static TorchDeepseekV3 of(NDManager m, ModelConfig c, Map<String, float[]> weights) {
        TorchDeepseekV3 t = new TorchDeepseekV3(m, weights);
        var d = c.deepseek();
        t.vocab = c.vocabSize(); t.hidden = c.hiddenSize(); t.layers = c.numLayers(); t.heads = c.numHeads();
        t.ffn = c.intermediateSize(); t.theta = c.ropeTheta(); t.eps = c.rmsEps(); t.tie = c.tieEmbeddings();
        t.qLora = d.qLoraRank(); t.kvLora = d.kvLoraRank(); t.dNope = d.qkNopeHeadDim(); t.dRope = d.qkRopeHeadDim(); t.dV = d.vHeadDim();
        t.interleave = d.ropeInterleave(); t.E = d.nRoutedExperts(); t.nShared = d.nSharedExperts(); t.topK = d.numExpertsPerTok();
        t.nGroup = d.nGroup(); t.topkGroup = d.topkGroup(); t.firstDense = d.firstKDenseReplace(); t.moeFfn = d.moeIntermediateSize();
        t.rsf = d.routedScalingFactor(); t.normTopk = d.normTopkProb();
        if (c.yarn() != null) {
            var y = c.yarn();
            t.yFactor = y.factor();
            t.yOrig = y.originalMaxPositionEmbeddings() > 0 ? y.originalMaxPositionEmbeddings() : c.maxPositions();
            t.yMscale = y.yarn().mscale(); t.yMscaleAll = y.yarn().mscaleAllDim();
            t.yBetaFast = y.yarn().betaFast(); t.yBetaSlow = y.yarn().betaSlow();
        }
        return t;
    }

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

    public Map<String, NDArray> created() {
        return cache;
    }

    private NDArray linear(NDArray x, String name, long out, long in) {
        return x.matMul(p(name, out, in).transpose());
    }

    private NDArray rms(NDArray x, NDArray weight) {
        NDArray var = x.pow(2).mean(new int[] {-1}, true);
        return x.mul(var.add(eps).sqrt().pow(-1)).mul(weight);
    }

    static double getMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    /** transformers' inv_freq and attention_scaling for head_dim = qk_rope_head_dim. */
    double[] invFreq() {
        int dim = dRope, half = dim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.pow(theta, (double) (2 * i) / dim);
        if (yFactor == 0) return inv;
        double lo = Math.floor(dim * Math.log(yOrig / (yBetaFast * 2 * Math.PI)) / (2 * Math.log(theta)));
        double hi = Math.ceil(dim * Math.log(yOrig / (yBetaSlow * 2 * Math.PI)) / (2 * Math.log(theta)));
        lo = Math.max(lo, 0);
        hi = Math.min(hi, dim - 1);
        if (lo == hi) hi += 0.001;
        for (int i = 0; i < half; i++) {
            double extra = inv[i], inter = inv[i] / yFactor;
            double ramp = Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
            double mask = 1 - ramp;
            inv[i] = inter * (1 - mask) + extra * mask;
        }
        return inv;
    }

    double attentionScaling() {
        if (yFactor == 0) return 1;
        if (yMscale != 0 && yMscaleAll != 0) return getMscale(yFactor, yMscale) / getMscale(yFactor, yMscaleAll);
        return getMscale(yFactor, 1);
    }

    double softmaxScale() {
        double s = Math.pow(dNope + dRope, -0.5);
        if (yFactor != 0 && yMscaleAll != 0) {
            double m = getMscale(yFactor, yMscaleAll);
            s *= m * m;
        }
        return s;
    }

    private NDArray rotateHalf(NDArray x) {
        int half = dRope / 2;
        NDArray x1 = x.get(new NDIndex("..., 0:" + half)), x2 = x.get(new NDIndex("..., " + half + ":"));
        return NDArrays.concat(new NDList(x2.neg(), x1), -1);
    }

    /** x [b, h, s, d] → interleaved pairs de-interleaved: view(b,h,s,d/2,2).transpose(4,3).reshape(b,h,s,d). */
    private NDArray deinterleave(NDArray x) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), s.get(2), dRope / 2, 2).transpose(0, 1, 2, 4, 3).reshape(s);
    }

    private NDArray mlp(NDArray x, String pre, long width) {
        NDArray g = linear(x, pre + "gate_proj.weight", width, hidden);
        NDArray u = linear(x, pre + "up_proj.weight", width, hidden);
        NDArray silu = g.div(g.neg().exp().add(1));
        return linear(silu.mul(u), pre + "down_proj.weight", hidden, width);
    }

    /** Chosen experts per token [N][topK] from float64 sigmoid scores and the correction bias. */
    int[][] choose(double[] scores, float[] bias, int N) {
        int per = E / nGroup;
        int[][] out = new int[N][];
        for (int n = 0; n < N; n++) {
            double[] ch = new double[E];
            for (int e = 0; e < E; e++) ch[e] = scores[n * E + e] + bias[e];
            double[] gs = new double[nGroup];
            for (int g = 0; g < nGroup; g++) {
                double[] members = Arrays.copyOfRange(ch, g * per, (g + 1) * per);
                Arrays.sort(members);
                gs[g] = members[per - 1] + members[per - 2];
            }
            Integer[] gOrder = new Integer[nGroup];
            for (int g = 0; g < nGroup; g++) gOrder[g] = g;
            Arrays.sort(gOrder, (a, b) -> gs[a] != gs[b] ? Double.compare(gs[b], gs[a]) : Integer.compare(a, b));
            boolean[] keep = new boolean[nGroup];
            for (int i = 0; i < topkGroup; i++) keep[gOrder[i]] = true;
            for (int e = 0; e < E; e++) if (!keep[e / per]) ch[e] = 0.0;
            Integer[] eOrder = new Integer[E];
            for (int e = 0; e < E; e++) eOrder[e] = e;
            Arrays.sort(eOrder, (a, b) -> ch[a] != ch[b] ? Double.compare(ch[b], ch[a]) : Integer.compare(a, b));
            out[n] = new int[topK];
            for (int i = 0; i < topK; i++) out[n][i] = eOrder[i];
        }
        return out;
    }

    private NDArray moe(NDArray x, String pre, int N) {
        NDArray xf = x.reshape(N, hidden);
        NDArray scores = linear(xf, pre + "gate.weight", E, hidden);
        scores = scores.neg().exp().add(1).pow(-1);
        float[] bias = w.getOrDefault(pre + "gate.e_score_correction_bias", new float[E]);
        int[][] chosen = choose(scores.toDoubleArray(), bias, N);
        double[] onehot = new double[N * E];
        for (int n = 0; n < N; n++) for (int e : chosen[n]) onehot[n * E + e] = 1;
        NDArray wts = scores.mul(nd.create(onehot, new Shape(N, E)));
        if (normTopk) wts = wts.div(wts.sum(new int[] {1}, true).add(1e-20));
        wts = wts.mul(rsf);
        NDArray out = null;
        for (int e = 0; e < E; e++) {
            NDArray y = mlp(xf, pre + "experts." + e + ".", moeFfn).mul(wts.get(new NDIndex(":, " + e + ":" + (e + 1))));
            out = out == null ? y : out.add(y);
        }
        if (nShared > 0) out = out.add(mlp(xf, pre + "shared_experts.", (long) moeFfn * nShared));
        return out.reshape(x.getShape());
    }

    NDArray layer(NDArray x, int l, int B, int T, NDArray cos, NDArray sin, NDArray maskAdd) {
        String pre = "model.layers." + l + ".";
        int C = hidden, H = heads, qk = dNope + dRope;
        NDArray h = rms(x, p(pre + "input_layernorm.weight", C));
        String a = pre + "self_attn.";
        NDArray q = qLora > 0
                ? linear(rms(linear(h, a + "q_a_proj.weight", qLora, C), p(a + "q_a_layernorm.weight", qLora)), a + "q_b_proj.weight", (long) H * qk, qLora)
                : linear(h, a + "q_proj.weight", (long) H * qk, C);
        q = q.reshape(B, T, H, qk).transpose(0, 2, 1, 3);
        NDArray qPass = q.get(new NDIndex("..., 0:" + dNope)), qRot = q.get(new NDIndex("..., " + dNope + ":"));
        NDArray comp = linear(h, a + "kv_a_proj_with_mqa.weight", kvLora + dRope, C);
        NDArray kPass = comp.get(new NDIndex("..., 0:" + kvLora)), kRot = comp.get(new NDIndex("..., " + kvLora + ":"));
        kPass = linear(rms(kPass, p(a + "kv_a_layernorm.weight", kvLora)), a + "kv_b_proj.weight", (long) H * (dNope + dV), kvLora)
                .reshape(B, T, H, dNope + dV).transpose(0, 2, 1, 3);
        NDArray value = kPass.get(new NDIndex("..., " + dNope + ":"));
        kPass = kPass.get(new NDIndex("..., 0:" + dNope));
        kRot = kRot.reshape(B, 1, T, dRope);
        if (interleave) {
            qRot = deinterleave(qRot);
            kRot = deinterleave(kRot);
        }
        qRot = qRot.mul(cos).add(rotateHalf(qRot).mul(sin));
        kRot = kRot.mul(cos).add(rotateHalf(kRot).mul(sin));
        NDList ks = new NDList();
        for (int hh = 0; hh < H; hh++) ks.add(kRot);
        kRot = NDArrays.concat(ks, 1);
        NDArray query = NDArrays.concat(new NDList(qPass, qRot), -1), key = NDArrays.concat(new NDList(kPass, kRot), -1);
        NDArray scores = query.matMul(key.transpose(0, 1, 3, 2)).mul(softmaxScale()).add(maskAdd);
        NDArray att = scores.softmax(-1).matMul(value).transpose(0, 2, 1, 3).reshape(B, T, (long) H * dV);
        x = x.add(linear(att, a + "o_proj.weight", C, (long) H * dV));
        NDArray h2 = rms(x, p(pre + "post_attention_layernorm.weight", C));
        NDArray m = l >= firstDense ? moe(h2, pre + "mlp.", B * T) : mlp(h2, pre + "mlp.", ffn);
        return x.add(m);
    }

    /** cos/sin [B, 1, T, dRope] of transformers' rotary embedding (times attention_scaling). */
    NDArray[] cosSin(int[] pos, int B, int T) {
        double[] inv = invFreq();
        double sc = attentionScaling();
        int D = dRope, half = D / 2;
        double[] cos = new double[B * T * D], sin = new double[B * T * D];
        for (int r = 0; r < B * T; r++)
            for (int i = 0; i < D; i++) {
                double ang = pos[r] * inv[i % half];
                cos[r * D + i] = Math.cos(ang) * sc;
                sin[r * D + i] = Math.sin(ang) * sc;
            }
        return new NDArray[] {nd.create(cos, new Shape(B, 1, T, D)), nd.create(sin, new Shape(B, 1, T, D))};
    }

    NDArray mask(int B, int T, byte[] keyMask) {
        double[] add = new double[B * T * T];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    boolean vis = j <= i && (keyMask == null || keyMask[b * T + j] != 0);
                    add[(b * T + i) * T + j] = vis ? 0 : -1e30;
                }
        return nd.create(add, new Shape(B, 1, T, T));
    }

    NDArray embed(int[] ids, int B, int T) {
        double[] onehot = new double[ids.length * vocab];
        for (int i = 0; i < ids.length; i++) onehot[i * vocab + ids[i]] = 1;
        return nd.create(onehot, new Shape(ids.length, vocab)).matMul(p("model.embed_tokens.weight", vocab, hidden)).reshape(B, T, hidden);
    }

    /** The hidden state before model.norm [B, T, C]. */
    public NDArray preNorm(int[] ids, int B, int T, int[] pos, byte[] keyMask) {
        NDArray x = embed(ids, B, T);
        NDArray[] cs = cosSin(pos, B, T);
        NDArray maskAdd = mask(B, T, keyMask);
        for (int l = 0; l < layers; l++) x = layer(x, l, B, T, cs[0], cs[1], maskAdd);
        return x;
    }

    public NDArray head(NDArray normed) {
        String head = tie ? "model.embed_tokens.weight" : "lm_head.weight";
        return normed.matMul(p(head, vocab, hidden).transpose());
    }

    /** Logits [B, T, V] in float64. */
    public NDArray logits(int[] ids, int B, int T, int[] pos, byte[] keyMask) {
        return head(rms(preNorm(ids, B, T, pos, keyMask), p("model.norm.weight", hidden)));
    }

    /**
     * Logits [B, T, V] of MTP module d (layer index layers + d) on top of the previous depth's
     * hidden states {@code prev} and the ids one further ahead {@code nextIds} (DeepSeek's /
     * vLLM's DeepSeekMTP: eh_proj(cat(enorm(emb), hnorm(h))), block, shared_head.norm, head).
     */
    public NDArray[] mtp(NDArray prev, int d, int[] nextIds, int B, int T, int[] pos, byte[] keyMask) {
        int L = layers + d, C = hidden;
        String pre = "model.layers." + L + ".";
        NDArray e = rms(embed(nextIds, B, T), p(pre + "enorm.weight", C));
        NDArray hh = rms(prev, p(pre + "hnorm.weight", C));
        NDArray x = linear(NDArrays.concat(new NDList(e, hh), -1), pre + "eh_proj.weight", C, 2L * C);
        NDArray[] cs = cosSin(pos, B, T);
        x = layer(x, L, B, T, cs[0], cs[1], mask(B, T, keyMask));
        return new NDArray[] {x, head(rms(x, p(pre + "shared_head.norm.weight", C)))};
    }
}

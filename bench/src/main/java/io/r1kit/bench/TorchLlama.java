package io.r1kit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.r1kit.model.arch.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama / Qwen2 decoder written with libtorch operations (through DJL) in float32, the way a
 * PyTorch user writes it in eager mode: the benchmark's other side. It is written from the math of
 * transformers' modeling_llama / modeling_qwen2 (RMSNorm, rotate-half RoPE, grouped-query attention
 * as matmul + causal mask + softmax, SwiGLU, tied or untied lm head), not from r1kit's code, and
 * keeps its own weights, gradients, AdamW moments and KV cache as libtorch tensors.
 *
 * <p>Grouped-query attention reads each kv head once for its group of query heads (q is reshaped to
 * [B, Hkv, group·T, D]), as torch's SDPA with {@code enable_gqa} does, instead of copying k/v per
 * query head.
 *
 * <p>Not thread-safe; one instance per benchmark side. Weights live in {@code nd}; every step's
 * temporaries live in a sub-manager closed at the end of the step.
 */
final class TorchLlama implements AutoCloseable {
    private final ModelConfig c;
    private final NDManager nd;
    private final int C, Hq, Hkv, D, I, V, group;
    private final Map<String, NDArray> w = new LinkedHashMap<>();
    private final Map<String, NDArray[]> adam = new LinkedHashMap<>();   // name -> {m, v}
    private final Map<String, NDArray> wT = new LinkedHashMap<>();       // this step's transposed-weight views
    private final NDArray cos, sin;   // [maxPositions, D]
    private long adamStep;
    private final double[] phaseMs = new double[4];   // last train step: forward + loss, backward, clipping, AdamW

    /** A model with r1kit's weights (by Hugging Face name), copied into float32 libtorch tensors. */
    TorchLlama(NDManager parent, ModelConfig c, Map<String, float[]> weights) {
        if (c.isDeepseekV3() || c.qkNorm() || c.outputBias() || c.mlpBias()) {
            throw new IllegalArgumentException("TorchLlama: only Llama / Qwen2 decoders without q/k norm, o_proj or MLP biases; got " + c.family());
        }
        this.c = c;
        this.nd = parent.newSubManager();
        C = c.hiddenSize();
        Hq = c.numHeads();
        Hkv = c.numKvHeads();
        D = c.headDim();
        I = c.intermediateSize();
        V = c.vocabSize();
        group = Hq / Hkv;
        put(weights, "model.embed_tokens.weight", V, C);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            put(weights, p + "input_layernorm.weight", C);
            put(weights, p + "self_attn.q_proj.weight", (long) Hq * D, C);
            put(weights, p + "self_attn.k_proj.weight", (long) Hkv * D, C);
            put(weights, p + "self_attn.v_proj.weight", (long) Hkv * D, C);
            if (c.qkvBias()) {
                put(weights, p + "self_attn.q_proj.bias", (long) Hq * D);
                put(weights, p + "self_attn.k_proj.bias", (long) Hkv * D);
                put(weights, p + "self_attn.v_proj.bias", (long) Hkv * D);
            }
            put(weights, p + "self_attn.o_proj.weight", C, (long) Hq * D);
            put(weights, p + "post_attention_layernorm.weight", C);
            put(weights, p + "mlp.gate_proj.weight", I, C);
            put(weights, p + "mlp.up_proj.weight", I, C);
            put(weights, p + "mlp.down_proj.weight", C, I);
        }
        put(weights, "model.norm.weight", C);
        if (!c.tieEmbeddings()) put(weights, "lm_head.weight", V, C);
        if (weights.size() != w.size()) {
            throw new IllegalArgumentException("TorchLlama: r1kit has " + weights.size() + " weights, the libtorch model " + w.size());
        }
        // transformers' default RoPE: inv_freq[i] = theta^(-2i/D), cos/sin of cat(freqs, freqs)
        int P = c.maxPositions(), half = D / 2;
        float[] cs = new float[P * D], sn = new float[P * D];
        for (int t = 0; t < P; t++) {
            for (int i = 0; i < D; i++) {
                double ang = t * Math.pow(c.ropeTheta(), -2.0 * (i % half) / D);
                cs[t * D + i] = (float) Math.cos(ang);
                sn[t * D + i] = (float) Math.sin(ang);
            }
        }
        cos = nd.create(cs, new Shape(P, D));
        sin = nd.create(sn, new Shape(P, D));
    }

    private void put(Map<String, float[]> weights, String name, long... shape) {
        float[] v = weights.get(name);
        if (v == null) throw new IllegalArgumentException("TorchLlama: r1kit's model has no weight '" + name + "'");
        if (v.length != new Shape(shape).size()) {
            throw new IllegalArgumentException("TorchLlama: weight '" + name + "' has " + v.length + " values, expected shape " + new Shape(shape));
        }
        w.put(name, nd.create(v, new Shape(shape)));
    }

    /** Milliseconds of the last training step's phases: forward + loss, backward, clipping, AdamW (zero_grad included). */
    double[] phaseMs() {
        return phaseMs;
    }

    // ---------------------------------------------------------------- layers

    private NDArray linear(NDArray x, String prefix, boolean bias) {
        NDArray y = x.matMul(transposed(prefix + ".weight"));
        return bias ? y.add(w.get(prefix + ".bias")) : y;
    }

    /** Wᵀ as a view, made once per step (inside the gradient collector when training). */
    private NDArray transposed(String name) {
        return wT.computeIfAbsent(name, k -> w.get(k).transpose());
    }

    private NDArray rms(NDArray x, NDArray weight) {
        NDArray var = x.square().mean(new int[] {-1}, true);
        return x.mul(var.add((float) c.rmsEps()).sqrt().pow(-1)).mul(weight);
    }

    /** x [B, T, H, D] at positions p0 .. p0+T-1 (the same for every row). */
    private NDArray rope(NDArray x, int p0, int T) {
        int half = D / 2;
        NDArray cc = cos.get(p0 + ":" + (p0 + T)).reshape(1, T, 1, D);
        NDArray ss = sin.get(p0 + ":" + (p0 + T)).reshape(1, T, 1, D);
        cc.attach(x.getManager());   // freed with this token's temporaries, not the step's
        ss.attach(x.getManager());
        NDArray x1 = x.get(new NDIndex(":, :, :, 0:" + half)), x2 = x.get(new NDIndex(":, :, :, " + half + ":"));
        NDArray rot = NDArrays.concat(new NDList(x2.neg(), x1), 3);
        return x.mul(cc).add(rot.mul(ss));
    }

    /**
     * One decoder layer on x [B, T, C] whose tokens sit at positions p0 .. p0+T-1. k/v of these
     * tokens are written to the cache at slots p0.. when {@code cache} is given, and attention
     * reads slots 0 .. p0+T-1 from it; without a cache it attends within x (causal).
     */
    private NDArray layer(int l, NDArray x, int B, int T, int p0, NDArray[] cache) {
        String pre = "model.layers." + l + ".";
        NDArray h = rms(x, w.get(pre + "input_layernorm.weight"));
        NDArray q = linear(h, pre + "self_attn.q_proj", c.qkvBias()).reshape(B, T, Hq, D);
        NDArray k = linear(h, pre + "self_attn.k_proj", c.qkvBias()).reshape(B, T, Hkv, D);
        NDArray v = linear(h, pre + "self_attn.v_proj", c.qkvBias()).reshape(B, T, Hkv, D);
        q = rope(q, p0, T).transpose(0, 2, 1, 3);              // [B, Hq, T, D]
        k = rope(k, p0, T).transpose(0, 2, 1, 3);              // [B, Hkv, T, D]
        v = v.transpose(0, 2, 1, 3);
        int Tk = T;
        if (cache != null) {
            String slots = ":, :, " + p0 + ":" + (p0 + T) + ", :";
            cache[0].set(new NDIndex(slots), k);
            cache[1].set(new NDIndex(slots), v);
            Tk = p0 + T;
            k = cache[0].get(new NDIndex(":, :, 0:" + Tk + ", :"));
            v = cache[1].get(new NDIndex(":, :, 0:" + Tk + ", :"));
            k.attach(x.getManager());
            v.attach(x.getManager());
        }
        // query head h reads kv head h / group: [B, Hkv, group·T, D] against [B, Hkv, Tk, D]
        NDArray qg = q.reshape(B, Hkv, (long) group * T, D);
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul((float) (1.0 / Math.sqrt(D)));
        if (T > 1) {
            scores = scores.reshape(B, Hkv, group, T, Tk).add(causalMask(T, Tk, p0)).reshape(B, Hkv, (long) group * T, Tk);
        }
        NDArray att = scores.softmax(-1).matMul(v)            // [B, Hkv, group·T, D]
                .reshape(B, Hq, T, D).transpose(0, 2, 1, 3).reshape(B, T, (long) Hq * D);
        x = x.add(linear(att, pre + "self_attn.o_proj", false));
        NDArray h2 = rms(x, w.get(pre + "post_attention_layernorm.weight"));
        NDArray g = linear(h2, pre + "mlp.gate_proj", false);
        NDArray u = linear(h2, pre + "mlp.up_proj", false);
        return x.add(linear(g.mul(Activation.sigmoid(g)).mul(u), pre + "mlp.down_proj", false));
    }

    /** Additive mask [T, Tk]: query i (position p0+i) sees key j iff j <= p0+i. */
    private NDArray causalMask(int T, int Tk, int p0) {
        float[] m = new float[T * Tk];
        for (int i = 0; i < T; i++) for (int j = p0 + i + 1; j < Tk; j++) m[i * Tk + j] = Float.NEGATIVE_INFINITY;
        return cos.getManager().create(m, new Shape(T, Tk));
    }

    /**
     * A manager for one step's temporaries. Weights, moments and RoPE tables are attached to it
     * until it closes (then they return to this model), so that the views and results of ops on
     * them are freed with the step's other temporaries.
     */
    private NDManager stepManager() {
        NDManager m = nd.newSubManager();
        wT.clear();
        for (NDArray a : w.values()) a.tempAttach(m);
        for (NDArray[] mv : adam.values()) for (NDArray a : mv) a.tempAttach(m);
        cos.tempAttach(m);
        sin.tempAttach(m);
        return m;
    }

    private NDArray embed(NDManager m, int[] ids, int B, int T) {
        NDArray idx = m.create(ids, new Shape((long) B * T)).toType(DataType.INT64, false);
        NDArray E = w.get("model.embed_tokens.weight");
        return idx.getNDArrayInternal().embedding(idx, E, SparseFormat.DENSE).singletonOrThrow().reshape(B, T, C);
    }

    private NDArray lmHead(NDArray x) {
        NDArray h = rms(x, w.get("model.norm.weight"));
        return h.matMul(transposed(c.tieEmbeddings() ? "model.embed_tokens.weight" : "lm_head.weight"));
    }

    // ---------------------------------------------------------------- training step

    /**
     * One training step: forward over ids [B, T], mean cross-entropy of targets [B, T] over the
     * whole vocabulary, backward, global-norm gradient clipping to {@code maxGradNorm} (torch's
     * clip_grad_norm_ formula), then torch.optim.AdamW's update (betas 0.9 / 0.999, eps 1e-8,
     * weight decay {@code wd}). Returns the loss before the update.
     */
    double trainStep(int[] ids, int[] targets, int B, int T, float lr, float wd, double maxGradNorm) {
        try (NDManager m = stepManager()) {
            long t0 = System.nanoTime(), t1, t2;
            for (NDArray p : w.values()) p.setRequiresGradient(true);
            double loss;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray x = embed(m, ids, B, T);
                for (int l = 0; l < c.numLayers(); l++) x = layer(l, x, B, T, 0, null);
                NDArray logits = lmHead(x).reshape((long) B * T, V);
                NDArray tgt = m.create(targets, new Shape((long) B * T, 1)).toType(DataType.INT64, false);
                NDArray nll = logits.logSoftmax(-1).gather(tgt, 1).mean().neg();
                loss = nll.getFloat();   // waits for the forward (libtorch on the CPU runs ops synchronously anyway)
                t1 = System.nanoTime();
                gc.backward(nll);
                t2 = System.nanoTime();
            }
            List<NDArray> grads = new ArrayList<>();
            for (NDArray p : w.values()) grads.add(p.getGradient());
            double ss = 0;
            for (NDArray g : grads) {
                try (NDArray n = g.norm()) {
                    ss += (double) n.getFloat() * n.getFloat();
                }
            }
            double norm = Math.sqrt(ss);
            double coef = maxGradNorm / (norm + 1e-6);
            if (coef < 1) for (NDArray g : grads) g.muli((float) coef);
            long t3 = System.nanoTime();
            adamW(grads, lr, wd);
            for (NDArray g : grads) g.subi(g);        // zero_grad (the gradient tensors are reused by the next backward)
            long t4 = System.nanoTime();
            phaseMs[0] = (t1 - t0) / 1e6;
            phaseMs[1] = (t2 - t1) / 1e6;
            phaseMs[2] = (t3 - t2) / 1e6;
            phaseMs[3] = (t4 - t3) / 1e6;
            return loss;
        }
    }

    /** torch.optim.AdamW's single-tensor update, in place on weights and moments. */
    private void adamW(List<NDArray> grads, float lr, float wd) {
        final float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        adamStep++;
        double bc1 = 1 - Math.pow(b1, adamStep), bc2 = 1 - Math.pow(b2, adamStep);
        int i = 0;
        for (Map.Entry<String, NDArray> e : w.entrySet()) {
            NDArray p = e.getValue(), g = grads.get(i++);
            NDArray[] mv = adam.computeIfAbsent(e.getKey(), k -> new NDArray[] {nd.zeros(p.getShape()), nd.zeros(p.getShape())});
            // each temporary is closed at once, so the update never holds more than two extra copies of a parameter
            p.muli(1 - lr * wd);
            try (NDArray t = g.mul(1 - b1)) {
                mv[0].muli(b1).addi(t);
            }
            try (NDArray t = g.square()) {
                mv[1].muli(b2).addi(t.muli(1 - b2));
            }
            try (NDArray denom = mv[1].sqrt(); NDArray upd = mv[0].div(denom.divi((float) Math.sqrt(bc2)).addi(eps))) {
                p.subi(upd.muli((float) (lr / bc1)));
            }
        }
    }

    // ---------------------------------------------------------------- greedy decoding

    /**
     * Greedy decoding of {@code newTokens} tokens for B prompts of the same length (prompts
     * [B, P], row-major), with a KV cache preallocated for P + newTokens positions per layer
     * ([B, Hkv, P+N, D] for k and for v). Returns the new tokens [B, N], row-major.
     */
    int[] greedy(int[] prompts, int B, int P, int newTokens) {
        try (NDManager m = stepManager()) {
            JniUtils.setGradMode(false);   // inference: no autograd graph even if the weights require gradients
            List<NDArray[]> cache = new ArrayList<>();
            for (int l = 0; l < c.numLayers(); l++) {
                cache.add(new NDArray[] {m.zeros(new Shape(B, Hkv, P + newTokens, D)), m.zeros(new Shape(B, Hkv, P + newTokens, D))});
            }
            NDArray next;
            try (NDManager s = m.newSubManager()) {
                NDArray x = embed(s, prompts, B, P);
                for (int l = 0; l < c.numLayers(); l++) x = layer(l, x, B, P, 0, cache.get(l));
                NDArray last = x.get(new NDIndex(":, " + (P - 1) + ":" + P + ", :"));
                next = lmHead(last).argMax(-1).reshape(B);   // [B] int64
                next.attach(m);
            }
            List<NDArray> out = new ArrayList<>();
            out.add(next);
            for (int t = 1; t < newTokens; t++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray E = w.get("model.embed_tokens.weight");
                    NDArray x = next.getNDArrayInternal().embedding(next, E, SparseFormat.DENSE).singletonOrThrow().reshape(B, 1, C);
                    for (int l = 0; l < c.numLayers(); l++) x = layer(l, x, B, 1, P + t - 1, cache.get(l));
                    next = lmHead(x).argMax(-1).reshape(B);
                    next.attach(m);
                }
                out.add(next);
            }
            long[] all = NDArrays.stack(new NDList(out), 1).toLongArray();   // [B, N]
            int[] ids = new int[all.length];
            for (int i = 0; i < all.length; i++) ids[i] = (int) all[i];
            return ids;
        }
    }

    @Override
    public void close() {
        nd.close();
    }
}

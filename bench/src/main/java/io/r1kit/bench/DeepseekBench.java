package io.r1kit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.arch.DeepseekV3Blocks;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.MoeRouting;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * DeepSeek-V3's two new layers, forward + backward (parameter and input gradients), r1kit against
 * libtorch on the same weights and shapes: multi-head latent attention (r1kit's {@code MlaAttention}
 * through {@link DeepseekV3Blocks#mla}) against transformers' DeepseekV3Attention written with
 * libtorch ops ([B, H, T, d] layout, eager matmul-mask-softmax-matmul attention, the shared RoPE key
 * broadcast over heads), and DeepSeekMoE (r1kit's {@code DeepseekMoe}) against the same grouped
 * algorithm in libtorch: sigmoid router, the same group-limited top-k on the host, one gather of
 * the tokens sorted by expert, each expert's three GEMMs on its contiguous rows, one gather back
 * and a batched weighted sum, plus the shared expert. The routing choice ({@link MoeRouting}) runs
 * on the host on both sides, as r1kit does it.
 */
final class DeepseekBench {
    /** An MLA shape: batch, sequence, hidden, heads, q_lora_rank (0 = plain q_proj), kv_lora_rank, nope / rope / v head dims. */
    record MlaCase(int b, int t, int hidden, int heads, int qLora, int kvLora, int dNope, int dRope, int dV) {
        ModelConfig config() {
            DeepseekV3Params d = new DeepseekV3Params(qLora, kvLora, dNope, dRope, dV, true, 2, 0, 1, 1, 1, 1.0, true, 1, 8, 0, 0);
            return ModelConfig.deepseekV3(64, hidden, 4 * hidden, 1, heads, d).withRope(10000.0, RopeTables.Scaling.none(), Math.max(t, 64));
        }
    }

    /** An MoE shape: batch, sequence, hidden, routed experts, groups, kept groups, experts per token, expert width, shared experts. */
    record MoeCase(int b, int t, int hidden, int experts, int groups, int topkGroup, int k, int moeFfn, int shared) {
        ModelConfig config() {
            DeepseekV3Params d = new DeepseekV3Params(0, 16, 8, 8, 8, true, experts, shared, k, groups, topkGroup, 2.5, true, 0, moeFfn, 0, 0);
            return ModelConfig.deepseekV3(64, hidden, 4 * hidden, 1, 2, d).withRope(10000.0, RopeTables.Scaling.none(), Math.max(t, 64));
        }
    }

    record Row(SideBySideTimer.Result r, String unavailable) {}

    static List<MlaCase> mlaCases(boolean quick) {
        if (quick) return List.of(new MlaCase(1, 128, 256, 4, 128, 64, 32, 16, 32));
        return List.of(new MlaCase(2, 256, 512, 8, 192, 128, 64, 32, 64),
                new MlaCase(2, 256, 512, 8, 0, 128, 64, 32, 64));
    }

    static List<MoeCase> moeCases(boolean quick) {
        if (quick) return List.of(new MoeCase(1, 128, 256, 8, 4, 2, 2, 128, 1));
        return List.of(new MoeCase(2, 256, 512, 16, 4, 2, 4, 256, 1),
                new MoeCase(2, 256, 512, 64, 8, 4, 6, 128, 2));
    }

    /** r1kit's side: the block's forward, then backward of sum(y · dy) into the parameters and the input. */
    static SideBySideTimer.Work r1kit(DeepseekV3Blocks.Block block, float[] x, float[] dy, int B, int T, int C) {
        Parameter in = new Parameter("x", x.clone(), B, T, C);
        Tensor seed = Tensor.of(dy, B, T, C);
        return () -> {
            for (Parameter p : block.parameters()) p.zeroGrad();
            in.zeroGrad();
            Tensor y = block.forward(in, B, T);
            F.sum(F.mul(y, seed)).backward();
        };
    }

    /** The block's weights as libtorch leaves with gradients. */
    static Map<String, NDArray> weights(DeepseekV3Blocks.Block block, NDManager nd) {
        Map<String, NDArray> w = new HashMap<>();
        for (Parameter p : block.parameters()) {
            int[] s = p.shape();
            long[] shape = new long[s.length];
            for (int i = 0; i < s.length; i++) shape[i] = s[i];
            NDArray a = nd.create(p.data(), new Shape(shape));
            a.setRequiresGradient(true);
            String name = p.name();
            w.put(name.substring(name.indexOf('.', "model.layers.0.".length()) + 1), a);
        }
        return w;
    }

    static NDArray linear(NDArray x, NDArray w) {
        return x.matMul(w.transpose());
    }

    static NDArray rms(NDArray x, NDArray w, float eps) {
        return x.mul(x.square().mean(new int[] {-1}, true).add(eps).sqrt().pow(-1)).mul(w);
    }

    static NDArray rotateHalf(NDArray x, int d) {
        NDArray x1 = x.get("..., :" + d / 2), x2 = x.get("..., " + d / 2 + ":");
        return NDArrays.concat(new NDList(x2.neg(), x1), -1);
    }

    /** [b, h, t, d] with interleaved pairs → rotate_half layout, as apply_rotary_pos_emb_interleave does. */
    static NDArray deinterleave(NDArray x, int d) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), s.get(2), d / 2, 2).transpose(0, 1, 2, 4, 3).reshape(s);
    }

    static Row mla(MlaCase c, NDManager nd, SideBySideTimer timer) throws Exception {
        ModelConfig cfg = c.config();
        int B = c.b(), T = c.t(), C = c.hidden(), dr = c.dRope();
        float eps = (float) cfg.rmsEps(), scale = (float) DeepseekV3Blocks.mlaSoftmaxScale(cfg);
        DeepseekV3Blocks.Block block = DeepseekV3Blocks.mla(cfg, 1);
        Random rnd = new Random(B * 1000L + T + C);
        float[] x = BenchData.random(rnd, B * T * C), dy = BenchData.random(rnd, B * T * C);
        SideBySideTimer.Work ours = r1kit(block, x, dy, B, T, C);
        try {
            ours.run();
        } catch (UnsupportedOperationException e) {
            return new Row(null, e.getMessage());
        }
        try (NDManager sub = nd.newSubManager()) {
            Map<String, NDArray> w = weights(block, sub);
            NDArray tx = sub.create(x, new Shape(B, T, C)), tdy = sub.create(dy, new Shape(B, T, C));
            NDArray[] tables = mlaTables(cfg, T, dr, sub);
            NDArray tcos = tables[0], tsin = tables[1], tmask = tables[2];
            tx.setRequiresGradient(true);
            List<NDArray> attached = new ArrayList<>(w.values());
            attached.addAll(List.of(tx, tdy, tcos, tsin, tmask));
            SideBySideTimer.Work torch = () -> {
                try (NDManager step = sub.newSubManager()) {
                    for (NDArray a : attached) a.tempAttach(step);
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        gc.backward(torchMla(c, scale, eps, w, tx, tcos, tsin, tmask).mul(tdy).sum());
                    }
                }
            };
            return new Row(timer.time(ours, torch), null);
        }
    }

    /** transformers' DeepseekV3Attention forward in libtorch ops: x [B, T, C] → [B, T, C]. */
    static NDArray torchMla(MlaCase c, float scale, float eps, Map<String, NDArray> w, NDArray tx, NDArray tcos, NDArray tsin, NDArray tmask) {
        int B = c.b(), T = c.t(), H = c.heads(), dn = c.dNope(), dr = c.dRope(), dv = c.dV(), r = c.kvLora(), qk = dn + dr;
        NDArray q = c.qLora() > 0
                ? linear(rms(linear(tx, w.get("q_a_proj.weight")), w.get("q_a_layernorm.weight"), eps), w.get("q_b_proj.weight"))
                : linear(tx, w.get("q_proj.weight"));
        q = q.reshape(B, T, H, qk).transpose(0, 2, 1, 3);
        NDArray qPass = q.get("..., :" + dn), qRot = deinterleave(q.get("..., " + dn + ":"), dr);
        NDArray ckv = linear(tx, w.get("kv_a_proj_with_mqa.weight"));
        NDArray kv = linear(rms(ckv.get("..., :" + r), w.get("kv_a_layernorm.weight"), eps), w.get("kv_b_proj.weight"))
                .reshape(B, T, H, dn + dv).transpose(0, 2, 1, 3);
        NDArray kNope = kv.get("..., :" + dn), v = kv.get("..., " + dn + ":");
        NDArray kRot = deinterleave(ckv.get("..., " + r + ":").reshape(B, 1, T, dr), dr);
        qRot = qRot.mul(tcos).add(rotateHalf(qRot, dr).mul(tsin));
        kRot = kRot.mul(tcos).add(rotateHalf(kRot, dr).mul(tsin)).broadcast(new Shape(B, H, T, dr));
        NDArray query = NDArrays.concat(new NDList(qPass, qRot), -1), key = NDArrays.concat(new NDList(kNope, kRot), -1);
        NDArray sc = query.matMul(key.transpose(0, 1, 3, 2)).mul(scale).add(tmask);
        NDArray a = sc.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(B, T, (long) H * dv);
        return linear(a, w.get("o_proj.weight"));
    }

    static NDArray mlp(NDArray x, Map<String, NDArray> w, String prefix) {
        NDArray g = linear(x, w.get(prefix + "gate_proj.weight"));
        NDArray u = linear(x, w.get(prefix + "up_proj.weight"));
        return linear(g.mul(g.neg().exp().add(1).pow(-1)).mul(u), w.get(prefix + "down_proj.weight"));
    }

    /** The grouped DeepSeekMoE forward in libtorch ops (routing choice on the host): x [N, C] → [N, C]. */
    static NDArray torchMoe(MoeCase c, DeepseekV3Params d, Map<String, NDArray> w, NDArray tx, NDManager step) {
        int N = c.b() * c.t(), C = c.hidden(), E = c.experts(), K = c.k();
        NDArray scores = linear(tx, w.get("gate.weight")).neg().exp().add(1).pow(-1);   // sigmoid [N, E]
        int[] idx = MoeRouting.topk(scores.toFloatArray(), new float[E], N, d);
        long[] pick = new long[N * K], sortedToken = new long[N * K], slotOf = new long[N * K];
        int[] count = new int[E + 1];
        for (int i = 0; i < N * K; i++) {
            pick[i] = (long) (i / K) * E + idx[i];
            count[idx[i] + 1]++;
        }
        for (int e = 0; e < E; e++) count[e + 1] += count[e];
        int[] fill = count.clone();
        for (int i = 0; i < N * K; i++) {
            int at = fill[idx[i]]++;
            sortedToken[at] = i / K;
            slotOf[i] = at;
        }
        NDArray wts = scores.reshape(N * (long) E).get(new NDIndex("{}", step.create(pick))).reshape(N, K);
        wts = wts.div(wts.sum(new int[] {1}, true).add(1e-20f)).mul((float) d.routedScalingFactor());
        NDArray xs = tx.get(new NDIndex("{}", step.create(sortedToken)));
        NDList outs = new NDList();
        for (int e = 0; e < E; e++) {
            if (count[e + 1] == count[e]) continue;
            outs.add(mlp(xs.get(count[e] + ":" + count[e + 1]), w, "experts." + e + "."));
        }
        NDArray ys = outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs, 0);
        NDArray perToken = ys.get(new NDIndex("{}", step.create(slotOf))).reshape(N, K, C);
        NDArray out = wts.reshape(N, 1, K).matMul(perToken).reshape(N, C);
        return c.shared() > 0 ? out.add(mlp(tx, w, "shared_experts.")) : out;
    }

    static Row moe(MoeCase c, NDManager nd, SideBySideTimer timer) throws Exception {
        ModelConfig cfg = c.config();
        DeepseekV3Params d = cfg.deepseek();
        int B = c.b(), T = c.t(), C = c.hidden(), N = B * T, E = c.experts();
        DeepseekV3Blocks.Block block = DeepseekV3Blocks.moe(cfg, 2);
        Random rnd = new Random(B * 1000L + T + E);
        float[] x = BenchData.random(rnd, N * C), dy = BenchData.random(rnd, N * C);
        SideBySideTimer.Work ours = r1kit(block, x, dy, B, T, C);
        try {
            ours.run();
        } catch (UnsupportedOperationException e) {
            return new Row(null, e.getMessage());
        }
        try (NDManager sub = nd.newSubManager()) {
            Map<String, NDArray> w = weights(block, sub);
            NDArray tx = sub.create(x, new Shape(N, C)), tdy = sub.create(dy, new Shape(N, C));
            tx.setRequiresGradient(true);
            List<NDArray> attached = new ArrayList<>(w.values());
            attached.addAll(List.of(tx, tdy));
            SideBySideTimer.Work torch = () -> {
                try (NDManager step = sub.newSubManager()) {
                    for (NDArray a : attached) a.tempAttach(step);
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        gc.backward(torchMoe(c, d, w, tx, step).mul(tdy).sum());
                    }
                }
            };
            return new Row(timer.time(ours, torch), null);
        }
    }

    /** cos, sin [1, 1, T, rope] (plain RoPE, the bench configs have no yarn) and the additive causal mask [T, T]. */
    static NDArray[] mlaTables(ModelConfig cfg, int T, int dr, NDManager nd) {
        float[] cos = new float[T * dr], sin = new float[T * dr], mask = new float[T * T];
        for (int p = 0; p < T; p++) {
            for (int i = 0; i < dr; i++) {
                double ang = p / Math.pow(cfg.ropeTheta(), 2.0 * (i % (dr / 2)) / dr);
                cos[p * dr + i] = (float) Math.cos(ang);
                sin[p * dr + i] = (float) Math.sin(ang);
            }
            for (int j = p + 1; j < T; j++) mask[p * T + j] = Float.NEGATIVE_INFINITY;
        }
        return new NDArray[] {nd.create(cos, new Shape(1, 1, T, dr)), nd.create(sin, new Shape(1, 1, T, dr)), nd.create(mask, new Shape(T, T))};
    }

    /**
     * max |r1kit − libtorch| / max |libtorch| of the two forwards on one input: the two sides of a
     * row compute the same function (the bench's check that it compares like with like).
     */
    static double mlaForwardDifference(MlaCase c, NDManager nd) {
        ModelConfig cfg = c.config();
        int B = c.b(), T = c.t(), C = c.hidden();
        DeepseekV3Blocks.Block block = DeepseekV3Blocks.mla(cfg, 1);
        float[] x = BenchData.random(new Random(3), B * T * C);
        float[] ours;
        try (var ng = Grad.noGrad()) {
            ours = block.forward(Tensor.of(x, B, T, C), B, T).toArray();
        }
        try (NDManager sub = nd.newSubManager()) {
            NDArray[] t = mlaTables(cfg, T, c.dRope(), sub);
            float[] ref = torchMla(c, (float) DeepseekV3Blocks.mlaSoftmaxScale(cfg), (float) cfg.rmsEps(), weights(block, sub),
                    sub.create(x, new Shape(B, T, C)), t[0], t[1], t[2]).toFloatArray();
            return relativeDifference(ours, ref);
        }
    }

    /** As {@link #mlaForwardDifference} for the MoE layer. */
    static double moeForwardDifference(MoeCase c, NDManager nd) {
        ModelConfig cfg = c.config();
        int N = c.b() * c.t(), C = c.hidden();
        DeepseekV3Blocks.Block block = DeepseekV3Blocks.moe(cfg, 2);
        float[] x = BenchData.random(new Random(4), N * C);
        float[] ours;
        try (var ng = Grad.noGrad()) {
            ours = block.forward(Tensor.of(x, c.b(), c.t(), C), c.b(), c.t()).toArray();
        }
        try (NDManager sub = nd.newSubManager()) {
            float[] ref = torchMoe(c, cfg.deepseek(), weights(block, sub), sub.create(x, new Shape(N, C)), sub).toFloatArray();
            return relativeDifference(ours, ref);
        }
    }

    static double relativeDifference(float[] ours, float[] ref) {
        double diff = 0, scale = 0;
        for (int i = 0; i < ref.length; i++) {
            diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return diff / scale;
    }
}

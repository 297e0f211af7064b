package io.r1kit.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1kit.model.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Causal grouped-query attention, forward + backward: r1kit's flash-style
 * {@link Backend#attentionForward}/{@link Backend#attentionBackward} against libtorch composed
 * the way a plain PyTorch model does it (matmul, causal mask, softmax, matmul, autograd).
 */
final class AttentionBench {
    record Case(int b, int t, int hq, int hkv, int d) {}

    record Row(Case c, SideBySideTimer.Result r, String unavailable) {}

    static List<Case> cases(boolean quick) {
        List<Case> cs = new ArrayList<>();
        if (quick) {
            cs.add(new Case(1, 256, 8, 2, 64));
            cs.add(new Case(2, 512, 8, 4, 64));
            return cs;
        }
        for (int b : new int[] {1, 4}) {
            for (int t : new int[] {256, 512}) {
                for (int hkv : new int[] {2, 4}) cs.add(new Case(b, t, 8, hkv, 64));
            }
        }
        return cs;
    }

    static Row run(Case c, Backend backend, NDManager nd, SideBySideTimer timer) throws Exception {
        int B = c.b(), T = c.t(), Hq = c.hq(), Hkv = c.hkv(), D = c.d(), G = Hq / Hkv;
        float scale = (float) (1.0 / Math.sqrt(D));
        Random r = new Random(B * 1000L + T);
        // r1kit layout: q [B,T,Hq,D], k/v [B,T,Hkv,D]
        float[] q = BenchData.random(r, B * T * Hq * D), k = BenchData.random(r, B * T * Hkv * D);
        float[] v = BenchData.random(r, B * T * Hkv * D), dout = BenchData.random(r, B * T * Hq * D);
        float[] out = new float[q.length], lse = new float[B * Hq * T];
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        SideBySideTimer.Work r1kit = () -> {
            backend.attentionForward(out, lse, q, k, v, null, B, T, T, Hq, Hkv, D, 0, scale);
            backend.attentionBackward(dq, dk, dv, dout, q, k, v, out, lse, null, B, T, T, Hq, Hkv, D, 0, scale);
        };
        try {
            r1kit.run();
        } catch (UnsupportedOperationException e) {
            return new Row(c, null, e.getMessage());
        }

        try (NDManager sub = nd.newSubManager()) {
            // libtorch layout: q [B,Hkv,G,T,D]; k, v [B,Hkv,1,T,D] broadcast over the G query
            // heads of each group (what repeat_kv achieves, without the copy).
            NDArray tq = sub.randomNormal(new Shape(B, Hkv, G, T, D));
            NDArray tk = sub.randomNormal(new Shape(B, Hkv, 1, T, D));
            NDArray tv = sub.randomNormal(new Shape(B, Hkv, 1, T, D));
            NDArray tdout = sub.randomNormal(new Shape(B, Hkv, G, T, D));
            float[] maskData = new float[T * T];
            for (int i = 0; i < T; i++) for (int j = i + 1; j < T; j++) maskData[i * T + j] = Float.NEGATIVE_INFINITY;
            NDArray mask = sub.create(maskData, new Shape(T, T));
            tq.setRequiresGradient(true);
            tk.setRequiresGradient(true);
            tv.setRequiresGradient(true);
            SideBySideTimer.Work torch = () -> {
                try (NDManager step = sub.newSubManager()) {
                    for (NDArray x : new NDArray[] {tq, tk, tv, tdout, mask}) x.tempAttach(step);
                    try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                        NDArray s = tq.matMul(tk.transpose(0, 1, 2, 4, 3)).mul(scale).add(mask);
                        NDArray o = s.softmax(-1).matMul(tv);
                        gc.backward(o.mul(tdout).sum());
                    }
                }
            };
            return new Row(c, timer.time(r1kit, torch), null);
        }
    }
}

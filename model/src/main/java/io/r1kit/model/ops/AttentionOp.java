package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Causal grouped-query attention on the flash-style backend kernels; layout [B, T, H, D] so the
 * q/k/v projections only need a reshape. Saves q, k, v (inputs), the output and lse [B, Hq, Tq].
 */
final class AttentionOp {
    private AttentionOp() {}

    static Tensor attention(Tensor q, Tensor k, Tensor v, byte[] keyMask, int qStart, float scale) {
        int[] qs = q.shape(), ks = k.shape();
        if (qs.length != 4 || ks.length != 4)
            throw new IllegalArgumentException("attention: q and k need [B, T, H, D], got q " + Shape.str(qs) + ", k " + Shape.str(ks));
        Shape.requireEqual("attention (k, v)", ks, v.shape());
        int B = qs[0], Tq = qs[1], Hq = qs[2], D = qs[3], Tk = ks[1], Hkv = ks[2];
        if (ks[0] != B || ks[3] != D)
            throw new IllegalArgumentException("attention: q " + Shape.str(qs) + " and k " + Shape.str(ks) + " differ in batch or head dim");
        if (Hkv == 0 || Hq % Hkv != 0)
            throw new IllegalArgumentException("attention: query heads " + Hq + " not a multiple of kv heads " + Hkv);
        if (keyMask != null && keyMask.length != B * Tk)
            throw new IllegalArgumentException("attention: keyMask has " + keyMask.length + " entries, expected B*Tk = " + B * Tk);
        if (qStart < 0 || qStart + Tq > Tk)
            throw new IllegalArgumentException("attention: qStart " + qStart + " + Tq " + Tq + " exceeds Tk " + Tk);
        Tensor out = Tensor.zeros(qs);
        float[] lse = new float[B * Hq * Tq];
        Backends.current().attentionForward(out.data(), lse, q.data(), k.data(), v.data(), keyMask,
                B, Tq, Tk, Hq, Hkv, D, qStart, scale);
        if (Grad.needsGrad(q, k, v)) Grad.attach(out, new Node("attention", q, k, v) {
            private Tensor o = out;

            @Override
            protected void backward(float[] g) {
                Tensor qi = input(0), ki = input(1), vi = input(2);
                float[] dq = qi.requiresGrad() ? qi.gradBuffer() : new float[qi.numel()];
                float[] dk = ki.requiresGrad() ? ki.gradBuffer() : new float[ki.numel()];
                float[] dv = vi.requiresGrad() ? vi.gradBuffer() : new float[vi.numel()];
                Backends.current().attentionBackward(dq, dk, dv, g, qi.data(), ki.data(), vi.data(), o.data(), lse,
                        keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
            }

            @Override
            protected void release() {
                o = null;
                super.release();
            }
        });
        return out;
    }
}

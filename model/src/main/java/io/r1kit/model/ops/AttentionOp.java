package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Causal grouped-query attention on the flash-style kernels of the inputs' backend (host or device); layout [B, T, H, D] so the
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
        return on(OnDevice.backendOf("attention", q, k, v), q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
    }

    /** On dev: the key mask is uploaded once per array; lse [B, Hq, Tq] stays there. */
    private static Tensor on(DeviceBackend dev, Tensor q, Tensor k, Tensor v, byte[] keyMask, int B, int Tq, int Tk,
                                   int Hq, int Hkv, int D, int qStart, float scale) {
        OnDevice.Ref mask = OnDevice.bytes(dev, keyMask, "attention key mask [" + B * Tk + "]");   // the node keeps the Ref alive
        DeviceArray m = mask == null ? null : mask.array;
        OnDevice.Ref lse = OnDevice.scratch(dev, (long) B * Hq * Tq);
        Tensor out = Tensor.zerosOn(dev, q.shape());
        dev.attentionForward(out.deviceArray("attention"), lse.array, q.deviceArray("attention"), k.deviceArray("attention"),
                v.deviceArray("attention"), m, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
        if (Grad.needsGrad(q, k, v)) Grad.attach(out, new OnDevice.DeviceNode("attention", q, k, v) {
            private Tensor o = out;

            @Override
            void backwardOn(DeviceArray g) {
                dev.attentionBackward(gradOrScratch(0), gradOrScratch(1), gradOrScratch(2), g, input(0).deviceArray("attention"),
                        input(1).deviceArray("attention"), input(2).deviceArray("attention"), o.deviceArray("attention"),
                        lse.array, mask == null ? null : mask.array, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
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

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.backend.device.ElementType;

/** Transformer building blocks on the kernels of the inputs' backend (host or device): RMSNorm, RoPE, SwiGLU. */
final class NormOps {
    private NormOps() {}

    /** x [..., C], w [C] → [..., C]; saves rstd [N] for the backward. */
    static Tensor rmsNorm(Tensor x, Tensor w, float eps) {
        int[] s = x.shape();
        int C = s[s.length - 1];
        if (w.rank() != 1 || w.dim(0) != C)
            throw new IllegalArgumentException("rmsNorm: weight " + Shape.str(w.shape()) + " does not match last dim of x "
                    + Shape.str(s) + " (expected [" + C + "])");
        int N = x.numel() / C;
        return rmsNormOn(OnDevice.backendOf("rmsNorm", x, w), x, w, eps, N, C);
    }

    /** rmsNorm on dev; saves rstd [N] there. */
    private static Tensor rmsNormOn(DeviceBackend dev, Tensor x, Tensor w, float eps, int N, int C) {
        Tensor out = Tensor.zerosOn(dev, x.shape());
        OnDevice.Ref rstd = OnDevice.scratch(dev, N);
        dev.rmsnormForward(out.deviceArray("rmsNorm"), rstd.array, x.deviceArray("rmsNorm"), w.deviceArray("rmsNorm"), N, C, eps);
        if (Grad.needsGrad(x, w)) Grad.attach(out, new OnDevice.DeviceNode("rmsNorm", x, w) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.rmsnormBackward(gradOrScratch(0), gradOrScratch(1), g, input(0).deviceArray("rmsNorm"),
                        input(1).deviceArray("rmsNorm"), rstd.array, N, C);
            }
        });
        return out;
    }

    /**
     * Rotary embedding of x [..., H, D] (rows R = product of the leading dims, e.g. [B, T, H, D]
     * gives R = B·T), row r at absolute position pos[r]; cos, sin: [maxPos, D/2] tables.
     */
    static Tensor rope(Tensor x, int[] pos, float[] cos, float[] sin) {
        int[] s = x.shape();
        if (s.length < 2) throw new IllegalArgumentException("rope: x needs shape [..., H, D], got " + Shape.str(s));
        int H = s[s.length - 2], D = s[s.length - 1], R = x.numel() / (H * D);
        if ((D & 1) != 0) throw new IllegalArgumentException("rope: head dim D=" + D + " must be even, x " + Shape.str(s));
        if (pos.length != R)
            throw new IllegalArgumentException("rope: " + pos.length + " positions for " + R + " rows of x " + Shape.str(s));
        if (cos.length != sin.length || cos.length % (D / 2) != 0)
            throw new IllegalArgumentException("rope: cos/sin tables of length " + cos.length + "/" + sin.length
                    + " are not [maxPos, " + D / 2 + "]");
        int maxPos = cos.length / (D / 2);
        for (int r = 0; r < R; r++)
            if (pos[r] < 0 || pos[r] >= maxPos)
                throw new IndexOutOfBoundsException("rope: position " + pos[r] + " of row " + r + " outside the table [0, " + maxPos + ")");
        return ropeOn(x, pos, cos, sin, R, H, D);
    }

    /** rope on x's backend: positions uploaded once per array, the tables once per model (see OnDevice). */
    private static Tensor ropeOn(Tensor x, int[] pos, float[] cos, float[] sin, int R, int H, int D) {
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        OnDevice.Ref p = OnDevice.ints(dev, pos, "rope positions [" + R + "]");
        OnDevice.Ref c = OnDevice.table(dev, cos, "rope cos table"), sn = OnDevice.table(dev, sin, "rope sin table");
        Tensor out = Tensor.zerosOn(dev, x.shape());
        dev.rope(out.deviceArray("rope"), x.deviceArray("rope"), p.array, c.array, sn.array, R, H, D, false);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("rope", x) {
            @Override
            void backwardOn(DeviceArray g) {
                int n = input(0).numel();
                try (DeviceArray tmp = dev.alloc(ElementType.F32, n)) {
                    dev.rope(tmp, g, p.array, c.array, sn.array, R, H, D, true);   // dx = R(-theta) · dout
                    dev.axpy(1f, tmp, input(0).deviceGradBuffer(), n);
                }
            }
        });
        return out;
    }

    /** silu(a) * b, a and b of equal shape. */
    static Tensor swiglu(Tensor a, Tensor b) {
        Shape.requireEqual("swiglu", a.shape(), b.shape());
        return swigluOn(OnDevice.backendOf("swiglu", a, b), a, b);
    }

    private static Tensor swigluOn(DeviceBackend dev, Tensor a, Tensor b) {
        Tensor out = Tensor.zerosOn(dev, a.shape());
        long n = a.numel();
        dev.swigluForward(out.deviceArray("swiglu"), a.deviceArray("swiglu"), b.deviceArray("swiglu"), n);
        if (Grad.needsGrad(a, b)) Grad.attach(out, new OnDevice.DeviceNode("swiglu", a, b) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.swigluBackward(gradOrScratch(0), gradOrScratch(1), g, input(0).deviceArray("swiglu"),
                        input(1).deviceArray("swiglu"), n);
            }
        });
        return out;
    }
}

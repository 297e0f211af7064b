package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;

/**
 * Binary elementwise ops with numpy broadcasting: add, sub, mul, div, minimum, maximum, and where,
 * on the inputs' backend (host or device). Backward reduces each input's gradient over the dims it
 * was broadcast along, by accumulating through the same strides the forward read with.
 *
 * <p>Equal shapes run add/mul on the add/mul kernels and a + b with b the trailing dims of a (the
 * bias case, [N, C] + [C]) row by row ({@link DeviceBackend#addRowBroadcast}); anything else runs
 * on the strided kernel ({@link DeviceBackend#binary}; small tensors in practice: losses, masks,
 * scalars). Every path computes each element with the one IEEE operation of {@link BinaryOp}, and
 * accumulates a broadcast operand's gradient in output order, so the path does not change a bit.
 */
final class Broadcast {
    private Broadcast() {}

    static Tensor apply(BinaryOp kind, Tensor a, Tensor b) {
        String op = kind.name().toLowerCase();
        int[] outShape = Shape.broadcast(op, a.shape(), b.shape());
        DeviceBackend dev = OnDevice.backendOf(op, a, b);
        int pa = period(a.shape(), outShape), pb = period(b.shape(), outShape);
        boolean same = pa == 0 && pb == 0 && (kind == BinaryOp.ADD || kind == BinaryOp.MUL);
        boolean bias = kind == BinaryOp.ADD && pa == 0 && pb > 0;
        if (!(same || bias)) return strided(dev, kind, a, b, outShape);
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray A = a.deviceArray(op), B = b.deviceArray(op), O = out.deviceArray(op);
        int n = out.numel(), cols = Math.max(1, pb), rows = n / cols;
        if (bias) dev.addRowBroadcast(O, A, B, rows, cols);
        else if (kind == BinaryOp.ADD) dev.add(O, A, B, n);
        else dev.mul(O, A, B, n);
        if (Grad.needsGrad(a, b)) Grad.attach(out, new OnDevice.DeviceNode(op, a, b) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor x = input(0), y = input(1);
                if (kind == BinaryOp.MUL) {   // da += g * b, db += g * a
                    try (DeviceArray t = dev.alloc(ElementType.F32, n)) {
                        if (x.requiresGrad()) { dev.mul(t, g, y.deviceArray(op), n); dev.axpy(1f, t, x.deviceGradBuffer(), n); }
                        if (y.requiresGrad()) { dev.mul(t, g, x.deviceArray(op), n); dev.axpy(1f, t, y.deviceGradBuffer(), n); }
                    }
                    return;
                }
                if (x.requiresGrad()) dev.axpy(1f, g, x.deviceGradBuffer(), n);
                if (y.requiresGrad()) {
                    if (bias) dev.sumRowsInto(y.deviceGradBuffer(), g, rows, cols, 1f);
                    else dev.axpy(1f, g, y.deviceGradBuffer(), n);
                }
            }
        });
        return out;
    }

    /**
     * Any kind and any numpy broadcast on the strided binary kernel ({@link DeviceBackend#binary}):
     * each operand is read through strides over the output's shape, 0 along the dims it is broadcast
     * along, and its gradient is accumulated through the same strides.
     */
    private static Tensor strided(DeviceBackend dev, BinaryOp kind, Tensor a, Tensor b, int[] outShape) {
        String op = kind.name().toLowerCase();
        int[] sa = strides(a.shape(), outShape), sb = strides(b.shape(), outShape);
        Tensor out = Tensor.zerosOn(dev, outShape);
        dev.binary(kind, out.deviceArray(op), a.deviceArray(op), b.deviceArray(op), outShape, sa, sb);
        if (Grad.needsGrad(a, b)) Grad.attach(out, new OnDevice.DeviceNode(op, a, b) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor x = input(0), y = input(1);
                dev.binaryBackward(kind, x.requiresGrad() ? x.deviceGradBuffer() : null, y.requiresGrad() ? y.deviceGradBuffer() : null,
                        g, x.deviceArray(op), y.deviceArray(op), outShape, sa, sb);
            }
        });
        return out;
    }

    /** Element strides of a row-major operand of shape {@code in} read at the indices of {@code out} (0 along broadcast dims). */
    static int[] strides(int[] in, int[] out) {
        int[] st = new int[out.length];
        int stride = 1;
        for (int k = in.length - 1, d = out.length - 1; k >= 0; k--, d--) {
            st[d] = in[k] == 1 && out[d] != 1 ? 0 : stride;
            stride *= in[k];
        }
        return st;
    }

    /**
     * How output element i reads an operand of shape {@code in}: 0 at i (same shape), P > 0 at
     * i % P (the operand, leading 1s stripped, equals the output's trailing dims; P its size), -1
     * through strides (any other broadcast).
     */
    static int period(int[] in, int[] out) {
        if (Arrays.equals(in, out)) return 0;
        int s = 0;
        while (s < in.length && in[s] == 1) s++;
        int[] core = Arrays.copyOfRange(in, s, in.length);
        if (core.length <= out.length && Arrays.equals(core, Arrays.copyOfRange(out, out.length - core.length, out.length)))
            return Math.max(1, Shape.numel(core));
        return -1;
    }

    // ------------------------------------------------------------------ where

    /** out = cond != 0 ? a : b, all three broadcast together, on the strided kernels; cond gets no gradient. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        DeviceBackend dev = OnDevice.backendOf("where", cond, a, b);
        int[] outShape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        int[] sc = strides(cond.shape(), outShape), sa = strides(a.shape(), outShape), sb = strides(b.shape(), outShape);
        Tensor out = Tensor.zerosOn(dev, outShape);
        dev.where(out.deviceArray("where"), cond.deviceArray("where"), a.deviceArray("where"), b.deviceArray("where"), outShape, sc, sa, sb);
        if (Grad.needsGrad(a, b)) Grad.attach(out, new OnDevice.DeviceNode("where", a, b) {
            private Tensor c = cond;

            @Override
            void backwardOn(DeviceArray g) {
                Tensor x = input(0), y = input(1);
                dev.whereBackward(x.requiresGrad() ? x.deviceGradBuffer() : null, y.requiresGrad() ? y.deviceGradBuffer() : null,
                        g, c.deviceArray("where"), outShape, sc, sa, sb);
            }

            @Override
            protected void release() {
                c = null;
                super.release();
            }
        });
        return out;
    }
}

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;

/**
 * Binary elementwise ops with numpy broadcasting: add, sub, mul, div, minimum, maximum.
 * Backward reduces each input's gradient over the dims it was broadcast along, by accumulating
 * through the same index map the forward read with.
 *
 * <p>Equal shapes run add/mul on the backend kernels; a trailing-dims operand ([N,C] op [C], the
 * bias case) runs row by row without an index map; anything else builds an int index map per
 * broadcast operand (these cases are small tensors in practice: losses, masks, scalars).
 */
final class Broadcast {
    private Broadcast() {}

    /** Shortest broadcast row worth one kernel call per row (shorter rows, e.g. scalars, use the plain loop). */
    private static final int ROW_KERNEL_MIN = 16;

    static Tensor apply(BinaryOp kind, Tensor a, Tensor b) {
        String op = kind.name().toLowerCase();
        int[] outShape = Shape.broadcast(op, a.shape(), b.shape());
        DeviceBackend dev = OnDevice.deviceOf(op, a, b);
        if (dev != null) return onDevice(dev, kind, a, b, outShape);
        Tensor out = Tensor.zeros(outShape);
        float[] A = a.data(), B = b.data(), O = out.data();
        int n = O.length;
        Backend be = Backends.current();
        Index ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        boolean kernel = kind == BinaryOp.ADD || kind == BinaryOp.MUL;
        if (kernel && ia.period == 0 && ib.period == 0) {
            if (kind == BinaryOp.ADD) be.add(O, 0, A, 0, B, 0, n);
            else be.mul(O, 0, A, 0, B, 0, n);
        } else if (kernel && ia.period == 0 && ib.period >= ROW_KERNEL_MIN) {
            // [..., C] ∘ [C] (bias, per-channel scale): one kernel call per row
            int P = ib.period;
            for (int r = 0; r < n; r += P) {
                if (kind == BinaryOp.ADD) be.add(O, r, A, r, B, 0, P);
                else be.mul(O, r, A, r, B, 0, P);
            }
        } else {
            for (int i = 0; i < n; i++) O[i] = kind.apply(A[ia.at(i)], B[ib.at(i)]);
        }
        if (Grad.needsGrad(a, b)) Grad.attach(out, new BinaryNode(kind, a, b, outShape));
        return out;
    }

    /**
     * The device forms: add / sub / mul of equal shapes, and a + b with b the trailing dims of a
     * (the bias case, [N, C] + [C]). Other broadcasts and kinds have no device kernels yet.
     */
    private static Tensor onDevice(DeviceBackend dev, BinaryOp kind, Tensor a, Tensor b, int[] outShape) {
        String op = kind.name().toLowerCase();
        Index ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        boolean same = ia.period == 0 && ib.period == 0;
        boolean bias = kind == BinaryOp.ADD && ia.period == 0 && ib.period > 0;
        if (!(same && (kind == BinaryOp.ADD || kind == BinaryOp.SUB || kind == BinaryOp.MUL) || bias))
            return stridedOnDevice(dev, kind, a, b, outShape);
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray A = a.deviceArray(op), B = b.deviceArray(op), O = out.deviceArray(op);
        int n = out.numel(), cols = Math.max(1, ib.period), rows = n / cols;
        if (bias) dev.addRowBroadcast(O, A, B, rows, cols);
        else if (kind == BinaryOp.ADD) dev.add(O, A, B, n);
        else if (kind == BinaryOp.MUL) dev.mul(O, A, B, n);
        else { dev.axpy(1f, A, O, n); dev.axpy(-1f, B, O, n); }
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
                    else dev.axpy(kind == BinaryOp.SUB ? -1f : 1f, g, y.deviceGradBuffer(), n);
                }
            }
        });
        return out;
    }

    /**
     * Any kind and any numpy broadcast on the device's strided binary kernel ({@link DeviceBackend#binary}):
     * each operand is read through strides over the output's shape, 0 along the dims it is broadcast
     * along, and its gradient is accumulated through the same strides.
     */
    private static Tensor stridedOnDevice(DeviceBackend dev, BinaryOp kind, Tensor a, Tensor b, int[] outShape) {
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
     * Where output element i reads an operand: identity (same shape), i % period (the operand
     * equals the output's trailing dims), or an explicit map.
     */
    static final class Index {
        final int period;   // > 0: i % period;  0: identity;  -1: map
        final int[] map;

        private Index(int period, int[] map) {
            this.period = period;
            this.map = map;
        }

        static Index of(int[] in, int[] out) {
            if (Arrays.equals(in, out)) return new Index(0, null);
            // strip leading 1s of the operand; if the rest equals the output's trailing dims, it's periodic
            int s = 0;
            while (s < in.length && in[s] == 1) s++;
            int[] core = Arrays.copyOfRange(in, s, in.length);
            if (core.length <= out.length && Arrays.equals(core, Arrays.copyOfRange(out, out.length - core.length, out.length)))
                return new Index(Math.max(1, Shape.numel(core)), null);
            return new Index(-1, Shape.broadcastIndex(in, out));
        }

        int at(int i) {
            return period == 0 ? i : period > 0 ? i % period : map[i];
        }
    }

    private static final class BinaryNode extends Node {
        private final BinaryOp kind;
        private final int[] outShape;

        BinaryNode(BinaryOp kind, Tensor a, Tensor b, int[] outShape) {
            super(kind.name().toLowerCase(), a, b);
            this.kind = kind;
            this.outShape = outShape;
        }

        @Override
        protected void backward(float[] g) {
            Tensor a = input(0), b = input(1);
            float[] A = a.data(), B = b.data();
            Index ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
            int n = g.length;
            if ((kind == BinaryOp.ADD || kind == BinaryOp.SUB) && ia.period == 0 && (ib.period == 0 || ib.period >= ROW_KERNEL_MIN)) {
                // residual add (equal shapes) and bias add ([..., C] + [C]): axpy, per row for the bias
                Backend be = Backends.current();
                float sb = kind == BinaryOp.ADD ? 1f : -1f;
                if (a.requiresGrad()) be.axpy(1f, g, 0, a.gradBuffer(), 0, n);
                if (b.requiresGrad()) {
                    float[] dB = b.gradBuffer();
                    if (ib.period == 0) be.axpy(sb, g, 0, dB, 0, n);
                    else for (int r = 0; r < n; r += ib.period) be.axpy(sb, g, r, dB, 0, ib.period);
                }
                return;
            }
            if (a.requiresGrad()) {
                float[] dA = a.gradBuffer();
                for (int i = 0; i < n; i++) {
                    int ja = ia.at(i);
                    float x = A[ja], y = B[ib.at(i)];
                    dA[ja] += kind.gradA(g[i], x, y);
                }
            }
            if (b.requiresGrad()) {
                float[] dB = b.gradBuffer();
                for (int i = 0; i < n; i++) {
                    int jb = ib.at(i);
                    float x = A[ia.at(i)], y = B[jb];
                    dB[jb] += kind.gradB(g[i], x, y);
                }
            }
        }
    }

    // ------------------------------------------------------------------ where

    /** out = cond != 0 ? a : b, all three broadcast together; cond gets no gradient. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        DeviceBackend dev = OnDevice.deviceOf("where", cond, a, b);
        int[] outShape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        if (dev != null) return whereOnDevice(dev, cond, a, b, outShape);
        Tensor out = Tensor.zeros(outShape);
        Index ic = Index.of(cond.shape(), outShape), ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        float[] C = cond.data(), A = a.data(), B = b.data(), O = out.data();
        for (int i = 0; i < O.length; i++) O[i] = C[ic.at(i)] != 0f ? A[ia.at(i)] : B[ib.at(i)];
        if (Grad.needsGrad(a, b)) Grad.attach(out, new WhereNode(cond, a, b, outShape));
        return out;
    }

    /** where on the device's strided kernels (cond is read, never differentiated). */
    private static Tensor whereOnDevice(DeviceBackend dev, Tensor cond, Tensor a, Tensor b, int[] outShape) {
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

    private static final class WhereNode extends Node {
        private Tensor cond;
        private final int[] outShape;

        WhereNode(Tensor cond, Tensor a, Tensor b, int[] outShape) {
            super("where", a, b);
            this.cond = cond;
            this.outShape = outShape;
        }

        @Override
        protected void backward(float[] g) {
            Tensor a = input(0), b = input(1);
            Index ic = Index.of(cond.shape(), outShape), ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
            float[] C = cond.data();
            float[] dA = a.requiresGrad() ? a.gradBuffer() : null, dB = b.requiresGrad() ? b.gradBuffer() : null;
            for (int i = 0; i < g.length; i++) {
                if (C[ic.at(i)] != 0f) { if (dA != null) dA[ia.at(i)] += g[i]; }
                else if (dB != null) dB[ib.at(i)] += g[i];
            }
        }

        @Override
        protected void release() {
            cond = null;
            super.release();
        }
    }
}

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.Backend;
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

    enum Kind { ADD, SUB, MUL, DIV, MIN, MAX }

    /** Shortest broadcast row worth one kernel call per row (shorter rows, e.g. scalars, use the plain loop). */
    private static final int ROW_KERNEL_MIN = 16;

    static Tensor apply(Kind kind, Tensor a, Tensor b) {
        String op = kind.name().toLowerCase();
        int[] outShape = Shape.broadcast(op, a.shape(), b.shape());
        DeviceBackend dev = OnDevice.deviceOf(op, a, b);
        if (dev != null) return onDevice(dev, kind, a, b, outShape);
        Tensor out = Tensor.zeros(outShape);
        float[] A = a.data(), B = b.data(), O = out.data();
        int n = O.length;
        Backend be = Backends.current();
        Index ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        boolean kernel = kind == Kind.ADD || kind == Kind.MUL;
        if (kernel && ia.period == 0 && ib.period == 0) {
            if (kind == Kind.ADD) be.add(O, 0, A, 0, B, 0, n);
            else be.mul(O, 0, A, 0, B, 0, n);
        } else if (kernel && ia.period == 0 && ib.period >= ROW_KERNEL_MIN) {
            // [..., C] ∘ [C] (bias, per-channel scale): one kernel call per row
            int P = ib.period;
            for (int r = 0; r < n; r += P) {
                if (kind == Kind.ADD) be.add(O, r, A, r, B, 0, P);
                else be.mul(O, r, A, r, B, 0, P);
            }
        } else {
            for (int i = 0; i < n; i++) O[i] = f(kind, A[ia.at(i)], B[ib.at(i)]);
        }
        if (Grad.needsGrad(a, b)) Grad.attach(out, new BinaryNode(kind, a, b, outShape));
        return out;
    }

    /**
     * The device forms: add / sub / mul of equal shapes, and a + b with b the trailing dims of a
     * (the bias case, [N, C] + [C]). Other broadcasts and kinds have no device kernels yet.
     */
    private static Tensor onDevice(DeviceBackend dev, Kind kind, Tensor a, Tensor b, int[] outShape) {
        String op = kind.name().toLowerCase();
        Index ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        boolean same = ia.period == 0 && ib.period == 0;
        boolean bias = kind == Kind.ADD && ia.period == 0 && ib.period > 0;
        if (!(same && (kind == Kind.ADD || kind == Kind.SUB || kind == Kind.MUL) || bias))
            throw new UnsupportedOperationException(op + " of " + Shape.str(a.shape()) + " and " + Shape.str(b.shape())
                    + " has no device implementation yet (device: add/sub/mul of equal shapes, add of a trailing-dims bias)");
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray A = a.deviceArray(op), B = b.deviceArray(op), O = out.deviceArray(op);
        int n = out.numel(), cols = Math.max(1, ib.period), rows = n / cols;
        if (bias) dev.addRowBroadcast(O, A, B, rows, cols);
        else if (kind == Kind.ADD) dev.add(O, A, B, n);
        else if (kind == Kind.MUL) dev.mul(O, A, B, n);
        else { dev.axpy(1f, A, O, n); dev.axpy(-1f, B, O, n); }
        if (Grad.needsGrad(a, b)) Grad.attach(out, new OnDevice.DeviceNode(op, a, b) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor x = input(0), y = input(1);
                if (kind == Kind.MUL) {   // da += g * b, db += g * a
                    try (DeviceArray t = dev.alloc(ElementType.F32, n)) {
                        if (x.requiresGrad()) { dev.mul(t, g, y.deviceArray(op), n); dev.axpy(1f, t, x.deviceGradBuffer(), n); }
                        if (y.requiresGrad()) { dev.mul(t, g, x.deviceArray(op), n); dev.axpy(1f, t, y.deviceGradBuffer(), n); }
                    }
                    return;
                }
                if (x.requiresGrad()) dev.axpy(1f, g, x.deviceGradBuffer(), n);
                if (y.requiresGrad()) {
                    if (bias) dev.sumRowsInto(y.deviceGradBuffer(), g, rows, cols, 1f);
                    else dev.axpy(kind == Kind.SUB ? -1f : 1f, g, y.deviceGradBuffer(), n);
                }
            }
        });
        return out;
    }

    private static float f(Kind k, float x, float y) {
        return switch (k) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MIN -> Math.min(x, y);
            case MAX -> Math.max(x, y);
        };
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
        private final Kind kind;
        private final int[] outShape;

        BinaryNode(Kind kind, Tensor a, Tensor b, int[] outShape) {
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
            if ((kind == Kind.ADD || kind == Kind.SUB) && ia.period == 0 && (ib.period == 0 || ib.period >= ROW_KERNEL_MIN)) {
                // residual add (equal shapes) and bias add ([..., C] + [C]): axpy, per row for the bias
                Backend be = Backends.current();
                float sb = kind == Kind.ADD ? 1f : -1f;
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
                    dA[ja] += switch (kind) {
                        case ADD, SUB -> g[i];
                        case MUL -> g[i] * y;
                        case DIV -> g[i] / y;
                        // ties split the gradient evenly between the operands, as torch does
                        case MIN -> x < y ? g[i] : x == y ? 0.5f * g[i] : 0f;
                        case MAX -> x > y ? g[i] : x == y ? 0.5f * g[i] : 0f;
                    };
                }
            }
            if (b.requiresGrad()) {
                float[] dB = b.gradBuffer();
                for (int i = 0; i < n; i++) {
                    int jb = ib.at(i);
                    float x = A[ia.at(i)], y = B[jb];
                    dB[jb] += switch (kind) {
                        case ADD -> g[i];
                        case SUB -> -g[i];
                        case MUL -> g[i] * x;
                        case DIV -> -g[i] * x / (y * y);
                        case MIN -> y < x ? g[i] : x == y ? 0.5f * g[i] : 0f;
                        case MAX -> y > x ? g[i] : x == y ? 0.5f * g[i] : 0f;
                    };
                }
            }
        }
    }

    // ------------------------------------------------------------------ where

    /** out = cond != 0 ? a : b, all three broadcast together; cond gets no gradient. */
    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        OnDevice.requireHost("where", cond, a, b);
        int[] outShape = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        Tensor out = Tensor.zeros(outShape);
        Index ic = Index.of(cond.shape(), outShape), ia = Index.of(a.shape(), outShape), ib = Index.of(b.shape(), outShape);
        float[] C = cond.data(), A = a.data(), B = b.data(), O = out.data();
        for (int i = 0; i < O.length; i++) O[i] = C[ic.at(i)] != 0f ? A[ia.at(i)] : B[ib.at(i)];
        if (Grad.needsGrad(a, b)) Grad.attach(out, new WhereNode(cond, a, b, outShape));
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

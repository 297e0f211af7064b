package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Unary elementwise ops: scale, add-scalar, neg, exp, log, sqrt, pow, clamp, sigmoid, log-sigmoid, abs.
 * Plain loops (the backend has no kernels for them; they run on loss-sized tensors).
 * Each backward reads what it needs: x, the output y, or both.
 */
final class Pointwise {
    private Pointwise() {}

    enum Kind { SCALE, ADD_SCALAR, NEG, EXP, LOG, SQRT, POW, CLAMP, SIGMOID, LOG_SIGMOID, ABS }

    static Tensor apply(Kind kind, Tensor x, float p, float q) {
        if (x.isOnDevice()) return scaleOnDevice(kind, x, p);
        Tensor out = Tensor.zeros(x.shape());
        float[] X = x.data(), Y = out.data();
        int n = X.length;
        switch (kind) {
            case SCALE -> Backends.current().scale(Y, 0, X, 0, p, n);
            case ADD_SCALAR -> { for (int i = 0; i < n; i++) Y[i] = X[i] + p; }
            case NEG -> { for (int i = 0; i < n; i++) Y[i] = -X[i]; }
            case EXP -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.exp(X[i]); }
            case LOG -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.log(X[i]); }
            case SQRT -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.sqrt(X[i]); }
            case POW -> { for (int i = 0; i < n; i++) Y[i] = (float) Math.pow(X[i], p); }
            case CLAMP -> { for (int i = 0; i < n; i++) Y[i] = Math.min(Math.max(X[i], p), q); }
            case SIGMOID -> { for (int i = 0; i < n; i++) Y[i] = (float) (1.0 / (1.0 + Math.exp(-X[i]))); }
            // log σ(x) = min(x, 0) - log1p(exp(-|x|)): no overflow for large |x|
            case LOG_SIGMOID -> { for (int i = 0; i < n; i++) Y[i] = (float) (Math.min(X[i], 0.0) - Math.log1p(Math.exp(-Math.abs(X[i])))); }
            case ABS -> { for (int i = 0; i < n; i++) Y[i] = Math.abs(X[i]); }
        }
        if (Grad.needsGrad(x)) Grad.attach(out, new UnaryNode(kind, x, out, p, q));
        return out;
    }

    /** scale and neg on the device (y = s·x, dx += s·g); the other kinds have no device kernels yet. */
    private static Tensor scaleOnDevice(Kind kind, Tensor x, float p) {
        String op = kind.name().toLowerCase();
        if (kind != Kind.SCALE && kind != Kind.NEG)
            throw new UnsupportedOperationException(op + " has no device implementation yet (input " + Shape.str(x.shape())
                    + " lives on " + x.device().name() + "; device: scale, neg)");
        float s = kind == Kind.NEG ? -1f : p;
        DeviceBackend dev = OnDevice.safePoint(x.device());
        Tensor out = Tensor.zerosOn(dev, x.shape());
        dev.scale(out.deviceArray(op), x.deviceArray(op), s, x.numel());
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.axpy(s, g, input(0).deviceGradBuffer(), input(0).numel());
            }
        });
        return out;
    }

    private static final class UnaryNode extends Node {
        private final Kind kind;
        private final float p, q;
        private Tensor y;

        UnaryNode(Kind kind, Tensor x, Tensor y, float p, float q) {
            super(kind.name().toLowerCase(), x);
            this.kind = kind;
            this.y = y;
            this.p = p;
            this.q = q;
        }

        @Override
        protected void backward(float[] g) {
            Tensor x = input(0);
            float[] X = x.data(), Y = y.data(), dX = x.gradBuffer();
            int n = g.length;
            switch (kind) {
                case SCALE -> Backends.current().axpy(p, g, 0, dX, 0, n);
                case ADD_SCALAR -> { for (int i = 0; i < n; i++) dX[i] += g[i]; }
                case NEG -> { for (int i = 0; i < n; i++) dX[i] -= g[i]; }
                case EXP -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Y[i]; }
                case LOG -> { for (int i = 0; i < n; i++) dX[i] += g[i] / X[i]; }
                case SQRT -> { for (int i = 0; i < n; i++) dX[i] += g[i] * 0.5f / Y[i]; }
                case POW -> { for (int i = 0; i < n; i++) dX[i] += g[i] * p * (float) Math.pow(X[i], p - 1); }
                // gradient flows where min <= x <= max (bounds inclusive, as in torch)
                case CLAMP -> { for (int i = 0; i < n; i++) if (X[i] >= p && X[i] <= q) dX[i] += g[i]; }
                case SIGMOID -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Y[i] * (1f - Y[i]); }
                // d/dx log σ(x) = σ(-x)
                case LOG_SIGMOID -> { for (int i = 0; i < n; i++) dX[i] += g[i] * (float) (1.0 / (1.0 + Math.exp(X[i]))); }
                case ABS -> { for (int i = 0; i < n; i++) dX[i] += g[i] * Math.signum(X[i]); }   // 0 at 0, as torch
            }
        }

        @Override
        protected void release() {
            y = null;
            super.release();
        }
    }
}

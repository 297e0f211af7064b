package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.UnaryOp;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Tensor;

/**
 * Unary elementwise ops: scale, add-scalar, neg, exp, log, sqrt, pow, clamp, sigmoid, log-sigmoid, abs.
 * Host: the loops of {@link UnaryOp} (scale on the backend kernels); they run on loss-sized tensors.
 * Device: scale and neg on the scale / axpy kernels, the others on {@link DeviceBackend#unary}.
 * Each backward reads what it needs: x, the output y, or both.
 */
final class Pointwise {
    private Pointwise() {}

    static Tensor apply(UnaryOp kind, Tensor x, float p, float q) {
        if (x.isOnDevice()) return kind == UnaryOp.SCALE || kind == UnaryOp.NEG ? scaleOnDevice(kind, x, p) : onDevice(kind, x, p, q);
        Tensor out = Tensor.zeros(x.shape());
        float[] X = x.data(), Y = out.data();
        int n = X.length;
        if (kind == UnaryOp.SCALE) Backends.current().scale(Y, 0, X, 0, p, n);
        else kind.forward(X, Y, n, p, q);
        if (Grad.needsGrad(x)) Grad.attach(out, new UnaryNode(kind, x, out, p, q));
        return out;
    }

    /** scale and neg on the device (y = s·x, dx += s·g). */
    private static Tensor scaleOnDevice(UnaryOp kind, Tensor x, float p) {
        String op = kind.name().toLowerCase();
        float s = kind == UnaryOp.NEG ? -1f : p;
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

    /** The other kinds on the device's unary kernels; the backward reads x and the output y on the device. */
    private static Tensor onDevice(UnaryOp kind, Tensor x, float p, float q) {
        String op = kind.name().toLowerCase();
        DeviceBackend dev = OnDevice.safePoint(x.device());
        int n = x.numel();
        Tensor out = Tensor.zerosOn(dev, x.shape());
        dev.unary(kind, out.deviceArray(op), x.deviceArray(op), n, p, q);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            private Tensor y = out;

            @Override
            void backwardOn(DeviceArray g) {
                Tensor xi = input(0);
                dev.unaryBackward(kind, xi.deviceGradBuffer(), g, xi.deviceArray(op), y.deviceArray(op), n, p, q);
            }

            @Override
            protected void release() {
                y = null;
                super.release();
            }
        });
        return out;
    }

    private static final class UnaryNode extends Node {
        private final UnaryOp kind;
        private final float p, q;
        private Tensor y;

        UnaryNode(UnaryOp kind, Tensor x, Tensor y, float p, float q) {
            super(kind.name().toLowerCase(), x);
            this.kind = kind;
            this.y = y;
            this.p = p;
            this.q = q;
        }

        @Override
        protected void backward(float[] g) {
            Tensor x = input(0);
            float[] dX = x.gradBuffer();
            if (kind == UnaryOp.SCALE) Backends.current().axpy(p, g, 0, dX, 0, g.length);
            else kind.backward(g, x.data(), y.data(), dX, g.length, p, q);
        }

        @Override
        protected void release() {
            y = null;
            super.release();
        }
    }
}

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.UnaryOp;
import io.r1kit.model.tensor.Tensor;

/**
 * Unary elementwise ops: scale, add-scalar, neg, exp, log, sqrt, pow, clamp, sigmoid, log-sigmoid, abs.
 * Scale and neg run on the scale / axpy kernels (neg is a scale by -1: the same value as -x),
 * the others on {@link DeviceBackend#unary} (on the host: the loops of {@link UnaryOp}).
 * Each backward reads what it needs: x, the output y, or both.
 */
final class Pointwise {
    private Pointwise() {}

    static Tensor apply(UnaryOp kind, Tensor x, float p, float q) {
        return kind == UnaryOp.SCALE || kind == UnaryOp.NEG ? scale(kind, x, p) : unary(kind, x, p, q);
    }

    /** scale and neg (y = s·x, dx += s·g). */
    private static Tensor scale(UnaryOp kind, Tensor x, float p) {
        String op = kind.name().toLowerCase();
        float s = kind == UnaryOp.NEG ? -1f : p;
        DeviceBackend dev = OnDevice.safePoint(x.backend());
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

    /** The other kinds on the unary kernels; the backward reads x and the output y. */
    private static Tensor unary(UnaryOp kind, Tensor x, float p, float q) {
        String op = kind.name().toLowerCase();
        DeviceBackend dev = OnDevice.safePoint(x.backend());
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
}

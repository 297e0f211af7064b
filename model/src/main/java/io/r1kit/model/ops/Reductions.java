package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Sums and means over everything or one dim, and their masked forms
 * (masked mean = sum(x·mask) / sum(mask)), on the inputs' backend (host or device). Sums
 * accumulate in double. Masks are constants: they never receive a gradient.
 *
 * <p>A dim reduction views x as [outer, n, inner] with n the reduced dim.
 */
final class Reductions {
    private Reductions() {}

    /** Sum (or mean when {@code mean}) of all elements: a 0-d tensor. */
    static Tensor sumAll(Tensor x, boolean mean) {
        int n = x.numel();
        String op = mean ? "mean" : "sum";
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        float scale = mean ? 1f / n : 1f;
        Tensor out = Tensor.zerosOn(dev);
        if (mean) dev.meanAll(out.deviceArray(op), x.deviceArray(op), n);
        else dev.sumScaled(out.deviceArray(op), x.deviceArray(op), n, 1f);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.addScalarBroadcast(input(0).deviceGradBuffer(), g, n, scale);
            }
        });
        return out;
    }

    /** Sum (or mean) over {@code dim}; keepDim leaves it as size 1. */
    static Tensor sumDim(Tensor x, int dim, boolean keepDim, boolean mean) {
        int[] s = x.shape();
        int d = Shape.dim(mean ? "mean" : "sum", dim, s.length);
        int outer = Shape.prod(s, 0, d), n = s[d], inner = Shape.prod(s, d + 1, s.length);
        return reduce(mean ? "mean(dim)" : "sum(dim)", x, null, outer, n, inner, mean, reducedShape(s, d, keepDim));
    }

    /**
     * Every reduction over a dim or masked ({@link DeviceBackend#maskedReduce}): x viewed as
     * [outer, n, inner] summed over n, times mask when given, divided by n (no mask) or by the
     * row's sum(mask) when {@code mean}; the backward recomputes the row scales from the mask.
     */
    private static Tensor reduce(String op, Tensor x, Tensor mask, int outer, int n, int inner, boolean mean, int[] outShape) {
        DeviceBackend dev = OnDevice.backendOf(op, x, mask);
        Tensor out = Tensor.zerosOn(dev, outShape);
        dev.maskedReduce(out.deviceArray(op), x.deviceArray(op), mask == null ? null : mask.deviceArray(op), outer, n, inner, mean);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            private Tensor m = mask;

            @Override
            void backwardOn(DeviceArray g) {
                dev.maskedReduceBackward(input(0).deviceGradBuffer(), g, m == null ? null : m.deviceArray(op), outer, n, inner, mean);
            }

            @Override
            protected void release() {
                m = null;
                super.release();
            }
        });
        return out;
    }

    static int[] reducedShape(int[] s, int d, boolean keepDim) {
        if (keepDim) {
            int[] r = s.clone();
            r[d] = 1;
            return r;
        }
        int[] r = new int[s.length - 1];
        for (int i = 0, k = 0; i < s.length; i++) if (i != d) r[k++] = s[i];
        return r;
    }

    /**
     * Global masked reduction: sum(x·mask), or sum(x·mask)/sum(mask) when {@code mean}. An
     * all-zero mask gives 0 (and zero gradient) instead of NaN.
     */
    static Tensor maskedAll(Tensor x, Tensor mask, boolean mean) {
        String op = mean ? "maskedMean" : "maskedSum";
        Shape.requireEqual(op + " (x, mask)", x.shape(), mask.shape());
        return reduce(op, x, mask, 1, x.numel(), 1, mean, new int[0]);
    }

    /**
     * Masked reduction over {@code dim} (keepDim false): per row sum(x·mask) (or divided by
     * sum(mask) of that row when {@code mean}; an all-zero row gives 0).
     */
    static Tensor maskedDim(Tensor x, Tensor mask, int dim, boolean mean) {
        String op = mean ? "maskedMean" : "maskedSum";
        Shape.requireEqual(op + " (x, mask)", x.shape(), mask.shape());
        int[] s = x.shape();
        int d = Shape.dim(op, dim, s.length);
        int outer = Shape.prod(s, 0, d), n = s[d], inner = Shape.prod(s, d + 1, s.length);
        return reduce(op + "(dim)", x, mask, outer, n, inner, mean, reducedShape(s, d, false));
    }
}

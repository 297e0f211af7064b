package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

/**
 * Sums and means over everything or one dim, and their masked forms
 * (masked mean = sum(x·mask) / sum(mask)). Sums accumulate in double. Masks are constants: they
 * never receive a gradient.
 *
 * <p>A dim reduction views x as [outer, n, inner] with n the reduced dim.
 */
final class Reductions {
    private Reductions() {}

    /** Sum (or mean when {@code mean}) of all elements: a 0-d tensor. */
    static Tensor sumAll(Tensor x, boolean mean) {
        int n = x.numel();
        if (x.isOnDevice()) return sumAllOnDevice(x, mean);
        double s = Backends.current().sum(x.data(), 0, n);
        float scale = mean ? 1f / n : 1f;
        Tensor out = Tensor.scalar((float) (mean ? s / n : s));
        if (Grad.needsGrad(x)) Grad.attach(out, new Node(mean ? "mean" : "sum", x) {
            @Override
            protected void backward(float[] g) {
                float[] dX = input(0).gradBuffer();
                float v = g[0] * scale;
                for (int i = 0; i < dX.length; i++) dX[i] += v;
            }
        });
        return out;
    }

    /** The device form: a 0-d device tensor (the loss stays on the device until item()). */
    private static Tensor sumAllOnDevice(Tensor x, boolean mean) {
        String op = mean ? "mean" : "sum";
        DeviceBackend dev = OnDevice.safePoint(x.device());
        int n = x.numel();
        float scale = mean ? 1f / n : 1f;
        Tensor out = Tensor.zerosOn(dev);
        dev.sumScaled(out.deviceArray(op), x.deviceArray(op), n, scale);
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
        if (x.isOnDevice()) return reduceOnDevice(mean ? "mean(dim)" : "sum(dim)", x, null, outer, n, inner, mean, reducedShape(s, d, keepDim));
        Tensor out = Tensor.zeros(reducedShape(s, d, keepDim));
        float[] X = x.data(), O = out.data();
        double scale = mean ? 1.0 / n : 1.0;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double acc = 0;
                for (int j = 0; j < n; j++) acc += X[(o * n + j) * inner + i];
                O[o * inner + i] = (float) (acc * scale);
            }
        if (Grad.needsGrad(x)) Grad.attach(out, new Node(mean ? "mean_dim" : "sum_dim", x) {
            @Override
            protected void backward(float[] g) {
                float[] dX = input(0).gradBuffer();
                float sc = (float) scale;
                for (int o = 0; o < outer; o++)
                    for (int j = 0; j < n; j++)
                        for (int i = 0; i < inner; i++) dX[(o * n + j) * inner + i] += g[o * inner + i] * sc;
            }
        });
        return out;
    }

    /**
     * The device form of every reduction here ({@link DeviceBackend#maskedReduce}): x viewed as
     * [outer, n, inner] summed over n, times mask when given, divided by n (no mask) or by the
     * row's sum(mask) when {@code mean}; the backward recomputes the row scales from the mask.
     */
    private static Tensor reduceOnDevice(String op, Tensor x, Tensor mask, int outer, int n, int inner, boolean mean, int[] outShape) {
        DeviceBackend dev = OnDevice.safePoint(x.device());
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
        DeviceBackend dev = OnDevice.deviceOf(op, x, mask);
        Shape.requireEqual(op + " (x, mask)", x.shape(), mask.shape());
        if (dev != null) return reduceOnDevice(op, x, mask, 1, x.numel(), 1, mean, new int[0]);
        float[] X = x.data(), M = mask.data();
        double num = 0, den = 0;
        for (int i = 0; i < X.length; i++) {
            if (M[i] != 0f) num += (double) X[i] * M[i];
            den += M[i];
        }
        double scale = !mean ? 1.0 : den == 0 ? 0.0 : 1.0 / den;
        Tensor out = Tensor.scalar((float) (num * scale));
        if (Grad.needsGrad(x)) Grad.attach(out, new MaskNode(op, x, mask, 1, X.length, new double[] {scale}));
        return out;
    }

    /**
     * Masked reduction over {@code dim} (keepDim false): per row sum(x·mask) (or divided by
     * sum(mask) of that row when {@code mean}; an all-zero row gives 0).
     */
    static Tensor maskedDim(Tensor x, Tensor mask, int dim, boolean mean) {
        String op = mean ? "maskedMean" : "maskedSum";
        DeviceBackend dev = OnDevice.deviceOf(op + "(dim)", x, mask);
        Shape.requireEqual(op + " (x, mask)", x.shape(), mask.shape());
        int[] s = x.shape();
        int d = Shape.dim(op, dim, s.length);
        int outer = Shape.prod(s, 0, d), n = s[d], inner = Shape.prod(s, d + 1, s.length);
        if (dev != null) return reduceOnDevice(op + "(dim)", x, mask, outer, n, inner, mean, reducedShape(s, d, false));
        Tensor out = Tensor.zeros(reducedShape(s, d, false));
        float[] X = x.data(), M = mask.data(), O = out.data();
        double[] scale = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double num = 0, den = 0;
                for (int j = 0; j < n; j++) {
                    int k = (o * n + j) * inner + i;
                    if (M[k] != 0f) num += (double) X[k] * M[k];
                    den += M[k];
                }
                double sc = !mean ? 1.0 : den == 0 ? 0.0 : 1.0 / den;
                scale[o * inner + i] = sc;
                O[o * inner + i] = (float) (num * sc);
            }
        if (Grad.needsGrad(x)) Grad.attach(out, new MaskNode(op, x, mask, n, inner, scale));
        return out;
    }

    /** dx[o, j, i] += g[o, i] * mask[o, j, i] * scale[o, i]. The global case is n = 1 row, inner = all. */
    private static final class MaskNode extends Node {
        private Tensor mask;
        private double[] scale;
        private final int n, inner;

        MaskNode(String name, Tensor x, Tensor mask, int n, int inner, double[] scale) {
            super(name, x);
            this.mask = mask;
            this.n = n;
            this.inner = inner;
            this.scale = scale;
        }

        @Override
        protected void backward(float[] g) {
            float[] dX = input(0).gradBuffer(), M = mask.data();
            int rows = dX.length / (n * inner);
            boolean global = scale.length == 1 && g.length == 1;
            for (int o = 0; o < rows; o++)
                for (int j = 0; j < n; j++)
                    for (int i = 0; i < inner; i++) {
                        int k = (o * n + j) * inner + i, r = global ? 0 : o * inner + i;
                        if (M[k] != 0f) dX[k] += (float) (g[r] * scale[r] * M[k]);
                    }
        }

        @Override
        protected void release() {
            mask = null;
            scale = null;
            super.release();
        }
    }
}

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Shape ops: reshape (a view sharing storage, free), transpose of two dims (materialised),
 * slice along a dim, concat along a dim, index-select of rows. Slice and concat view tensors as
 * [outer, n, inner] around the dim and copy contiguous inner blocks. Device tensors: the same ops
 * on the device ({@link ShapeOpsOnDevice}; reshape is a view there too).
 */
final class ShapeOps {
    private ShapeOps() {}

    // ------------------------------------------------------------------ reshape

    static Tensor reshape(Tensor x, int... newShape) {
        int[] shape = inferShape(x, newShape);
        if (x.isOnDevice()) return reshapeOnDevice(x, shape);
        Tensor out = Tensor.wrap(x.data(), shape);   // shares storage: no copy
        if (Grad.needsGrad(x)) Grad.attach(out, new Node("reshape", x) {
            @Override
            protected void backward(float[] g) {
                Backends.current().axpy(1f, g, 0, input(0).gradBuffer(), 0, g.length);
            }
        });
        return out;
    }

    /** A view of the same device storage; the backward adds the gradient back on the device. */
    private static Tensor reshapeOnDevice(Tensor x, int[] shape) {
        Tensor out = Tensor.onDevice(x.storage(), shape);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("reshape", x) {
            @Override
            void backwardOn(DeviceArray g) {
                x.device().axpy(1f, g, input(0).deviceGradBuffer(), input(0).numel());
            }
        });
        return out;
    }

    private static int[] inferShape(Tensor x, int[] s) {
        int[] shape = s.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: more than one -1 in " + Shape.str(s));
                infer = i;
            } else if (shape[i] < 0) {
                throw new IllegalArgumentException("reshape: negative dim in " + Shape.str(s));
            } else {
                known *= shape[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0)
                throw new IllegalArgumentException("reshape: cannot reshape " + Shape.str(x.shape()) + " to " + Shape.str(s));
            shape[infer] = x.numel() / known;
        }
        if (Shape.numel(shape) != x.numel())
            throw new IllegalArgumentException("reshape: cannot reshape " + Shape.str(x.shape()) + " (" + x.numel()
                    + " elements) to " + Shape.str(s) + " (" + Shape.numel(shape) + " elements)");
        return shape;
    }

    // ------------------------------------------------------------------ transpose

    static Tensor transpose(Tensor x, int dim0, int dim1) {
        int[] s = x.shape();
        int d0 = Shape.dim("transpose", dim0, s.length), d1 = Shape.dim("transpose", dim1, s.length);
        int[] os = s.clone();
        os[d0] = s[d1];
        os[d1] = s[d0];
        if (x.isOnDevice()) return ShapeOpsOnDevice.transpose(x, d0, d1, os);
        Tensor out = Tensor.zeros(os);
        swapCopy(x.data(), s, d0, d1, out.data(), false);
        if (Grad.needsGrad(x)) Grad.attach(out, new Node("transpose", x) {
            @Override
            protected void backward(float[] g) {
                swapCopy(g, os, d0, d1, input(0).gradBuffer(), true);
            }
        });
        return out;
    }

    /**
     * dst = src with dims d0 and d1 swapped (src has shape s); accumulates when {@code add}.
     * Iterates over dst in order; for each dst index the src offset follows from src strides
     * with the two dims exchanged.
     */
    private static void swapCopy(float[] src, int[] s, int d0, int d1, float[] dst, boolean add) {
        int r = s.length;
        int[] srcStride = new int[r];
        for (int i = r - 1, st = 1; i >= 0; i--) { srcStride[i] = st; st *= s[i]; }
        int[] ds = s.clone();                      // dst shape
        ds[d0] = s[d1];
        ds[d1] = s[d0];
        int[] stride = srcStride.clone();          // src stride per dst dim
        stride[d0] = srcStride[d1];
        stride[d1] = srcStride[d0];
        // the innermost dst dim is usually untouched (contiguous copy of length `last`)
        int last = ds[r - 1], lastStride = stride[r - 1];
        int outerCount = dst.length / Math.max(1, last);
        int[] counter = new int[r - 1];
        int srcOff = 0;
        for (int o = 0; o < outerCount; o++) {
            int dOff = o * last;
            if (add) for (int j = 0; j < last; j++) dst[dOff + j] += src[srcOff + j * lastStride];
            else for (int j = 0; j < last; j++) dst[dOff + j] = src[srcOff + j * lastStride];
            for (int i = r - 2; i >= 0; i--) {     // odometer over the outer dst dims
                counter[i]++;
                srcOff += stride[i];
                if (counter[i] < ds[i]) break;
                srcOff -= stride[i] * ds[i];
                counter[i] = 0;
            }
        }
    }

    // ------------------------------------------------------------------ slice

    /** x[..., start:end, ...] along {@code dim}. */
    static Tensor slice(Tensor x, int dim, int start, int end) {
        int[] s = x.shape();
        int d = Shape.dim("slice", dim, s.length);
        if (start < 0 || end > s[d] || start > end)
            throw new IllegalArgumentException("slice: range [" + start + ", " + end + ") out of bounds for dim " + d
                    + " of shape " + Shape.str(s));
        int outer = Shape.prod(s, 0, d), n = s[d], inner = Shape.prod(s, d + 1, s.length), len = end - start;
        int[] os = s.clone();
        os[d] = len;
        if (x.isOnDevice()) return ShapeOpsOnDevice.slice(x, outer, n, inner, start, len, os);
        Tensor out = Tensor.zeros(os);
        float[] X = x.data(), O = out.data();
        for (int o = 0; o < outer; o++)
            System.arraycopy(X, (o * n + start) * inner, O, o * len * inner, len * inner);
        if (Grad.needsGrad(x)) Grad.attach(out, new Node("slice", x) {
            @Override
            protected void backward(float[] g) {
                float[] dX = input(0).gradBuffer();
                for (int o = 0; o < outer; o++) {
                    int src = o * len * inner, dst = (o * n + start) * inner;
                    for (int j = 0; j < len * inner; j++) dX[dst + j] += g[src + j];
                }
            }
        });
        return out;
    }

    // ------------------------------------------------------------------ concat

    /** Joins tensors along {@code dim}; all other dims must agree. */
    static Tensor concat(List<Tensor> xs, int dim) {
        if (xs.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
        boolean device = OnDevice.deviceOf("concat", xs.toArray(new Tensor[0])) != null;   // mixed host/device: an error
        int[] s0 = xs.get(0).shape();
        int d = Shape.dim("concat", dim, s0.length);
        int totalDim = 0;
        for (Tensor t : xs) {
            int[] s = t.shape();
            boolean ok = s.length == s0.length;
            for (int i = 0; ok && i < s.length; i++) ok = i == d || s[i] == s0[i];
            if (!ok) throw new IllegalArgumentException("concat along dim " + d + ": shape " + Shape.str(s)
                    + " does not match " + Shape.str(s0) + " outside that dim");
            totalDim += s[d];
        }
        final int total = totalDim;
        int outer = Shape.prod(s0, 0, d), inner = Shape.prod(s0, d + 1, s0.length);
        int[] os = s0.clone();
        os[d] = total;
        int[] sizes = new int[xs.size()];
        for (int k = 0; k < sizes.length; k++) sizes[k] = xs.get(k).dim(d);
        if (device) return ShapeOpsOnDevice.concat(xs, outer, inner, sizes, total, os);
        Tensor out = Tensor.zeros(os);
        float[] O = out.data();
        for (int k = 0, at = 0; k < xs.size(); k++) {
            int n = xs.get(k).dim(d);
            sizes[k] = n;
            float[] X = xs.get(k).data();
            for (int o = 0; o < outer; o++)
                System.arraycopy(X, o * n * inner, O, (o * total + at) * inner, n * inner);
            at += n;
        }
        Tensor[] ins = xs.toArray(new Tensor[0]);
        if (Grad.needsGrad(ins)) Grad.attach(out, new Node("concat", ins) {
            @Override
            protected void backward(float[] g) {
                for (int k = 0, at = 0; k < sizes.length; k++) {
                    int n = sizes[k];
                    Tensor t = input(k);
                    if (t.requiresGrad()) {
                        float[] dX = t.gradBuffer();
                        for (int o = 0; o < outer; o++) {
                            int src = (o * total + at) * inner, dst = o * n * inner;
                            for (int j = 0; j < n * inner; j++) dX[dst + j] += g[src + j];
                        }
                    }
                    at += n;
                }
            }
        });
        return out;
    }

    // ------------------------------------------------------------------ index select / embedding

    /**
     * Rows of x (dim 0) picked by {@code rows}: out [rows.length, ...x.shape[1:]]. The backward is
     * a scatter-add; for a leaf only the touched rows are recorded as non-zero (sparse zeroGrad)
     * when {@code sparse}.
     */
    static Tensor indexSelect(String op, Tensor x, int[] rows, int[] leadShape, boolean sparse) {
        int[] s = x.shape();
        if (s.length < 1) throw new IllegalArgumentException(op + ": needs rank >= 1, got " + Shape.str(s));
        int V = s[0], C = Shape.prod(s, 1, s.length);
        if (Shape.numel(leadShape) != rows.length)
            throw new IllegalArgumentException(op + ": " + rows.length + " ids do not fill shape " + Shape.str(leadShape));
        for (int i = 0; i < rows.length; i++)
            if (rows[i] < 0 || rows[i] >= V)
                throw new IndexOutOfBoundsException(op + ": id " + rows[i] + " at position " + i + " outside [0, " + V
                        + ") for table " + Shape.str(s));
        int[] os = Arrays.copyOf(leadShape, leadShape.length + s.length - 1);
        System.arraycopy(s, 1, os, leadShape.length, s.length - 1);
        if (x.isOnDevice()) return indexSelectOnDevice(op, x, rows, os, C);
        Tensor out = Tensor.zeros(os);
        int[] ids = rows.clone();
        Backends.current().embeddingForward(out.data(), x.data(), ids, ids.length, C);
        if (Grad.needsGrad(x)) Grad.attach(out, new Node(op, x) {
            @Override
            protected void backward(float[] g) {
                Tensor t = input(0);
                float[] dT = sparse && t.isLeaf() ? t.gradBufferForRows(ids, C) : t.gradBuffer();
                Backends.current().embeddingBackward(dT, g, ids, ids.length, C);
            }
        });
        return out;
    }

    /**
     * The device form of index select / embedding: the ids are uploaded once (the "ids in" edge
     * transfer); the gradient is a dense device scatter-add (a device memset clears it cheaply,
     * so the host's sparse-row bookkeeping is not needed).
     */
    private static Tensor indexSelectOnDevice(String op, Tensor x, int[] rows, int[] outShape, int C) {
        DeviceBackend dev = OnDevice.safePoint(x.device());
        OnDevice.Ref ids = OnDevice.ints(dev, rows, op + " ids [" + rows.length + "]");
        int N = rows.length;
        Tensor out = Tensor.zerosOn(dev, outShape);
        dev.embeddingForward(out.deviceArray(op), x.deviceArray(op), ids.array, N, C);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.embeddingBackward(input(0).deviceGradBuffer(), g, ids.array, N, C);
            }
        });
        return out;
    }
}

package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Shape ops on the inputs' backend (host or device): reshape (a view sharing storage, free),
 * transpose of two dims (materialised), slice along a dim, concat along a dim, index-select of rows.
 * Slice and concat view every tensor as [outer, n, inner] around the dim, so each input is one
 * 2-D block copy ({@link DeviceBackend#copy2d}: outer rows of n·inner contiguous floats), and the
 * backward is the same copy in the other direction, accumulating. Transpose reuses the strided
 * broadcast kernel: out = x · 1 with x read through its strides with the two dims exchanged
 * (multiplying by 1 is exact, -0 and NaN included), its backward the kernel's gradient through
 * the same strides (each element of dx receives exactly one term, so the order of atomics does
 * not matter; CUDA's strided kernels take rank ≤ 4).
 */
final class ShapeOps {
    private ShapeOps() {}

    // ------------------------------------------------------------------ reshape

    static Tensor reshape(Tensor x, int... newShape) {
        int[] shape = inferShape(x, newShape);
        Tensor out = x.view(shape);   // shares storage: no copy
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("reshape", x) {
            @Override
            void backwardOn(DeviceArray g) {
                x.backend().axpy(1f, g, input(0).deviceGradBuffer(), input(0).numel());
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
        int r = os.length;
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        int[] stride = new int[r];
        for (int i = r - 1, st = 1; i >= 0; i--) { stride[i] = st; st *= s[i]; }
        int[] read = stride.clone();      // x's stride per output dim
        read[d0] = stride[d1];
        read[d1] = stride[d0];
        int[] none = new int[r];          // the ones scalar, broadcast everywhere
        OnDevice.Ref one = OnDevice.scratch(dev, 1);
        dev.fill(one.array, 1f, 1);
        Tensor out = Tensor.zerosOn(dev, os);
        dev.binary(BinaryOp.MUL, out.deviceArray("transpose"), x.deviceArray("transpose"), one.array, os, read, none);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("transpose", x) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor xi = input(0);
                dev.binaryBackward(BinaryOp.MUL, xi.deviceGradBuffer(), null, g, xi.deviceArray("transpose"), one.array, os,
                        read, none);
            }
        });
        return out;
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
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        Tensor out = Tensor.zerosOn(dev, os);
        long block = (long) len * inner;
        dev.copy2d(out.deviceArray("slice"), 0, block, x.deviceArray("slice"), (long) start * inner, (long) n * inner, outer, block,
                false);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode("slice", x) {
            @Override
            void backwardOn(DeviceArray g) {
                dev.copy2d(input(0).deviceGradBuffer(), (long) start * inner, (long) n * inner, g, 0, block, outer, block, true);
            }
        });
        return out;
    }

    // ------------------------------------------------------------------ concat

    /** Joins tensors along {@code dim}; all other dims must agree. */
    static Tensor concat(List<Tensor> xs, int dim) {
        if (xs.isEmpty()) throw new IllegalArgumentException("concat: no tensors");
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
        Tensor[] ins = xs.toArray(new Tensor[0]);
        DeviceBackend dev = OnDevice.backendOf("concat", ins);
        Tensor out = Tensor.zerosOn(dev, os);
        DeviceArray O = out.deviceArray("concat");
        long ld = (long) total * inner;
        for (int k = 0, at = 0; k < ins.length; at += sizes[k], k++) {
            long block = (long) sizes[k] * inner;
            dev.copy2d(O, (long) at * inner, ld, ins[k].deviceArray("concat"), 0, block, outer, block, false);
        }
        if (Grad.needsGrad(ins)) Grad.attach(out, new OnDevice.DeviceNode("concat", ins) {
            @Override
            void backwardOn(DeviceArray g) {
                for (int k = 0, at = 0; k < sizes.length; at += sizes[k], k++) {
                    Tensor t = input(k);
                    long block = (long) sizes[k] * inner;
                    if (t.requiresGrad()) dev.copy2d(t.deviceGradBuffer(), 0, block, g, (long) at * inner, ld, outer, block, true);
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
        DeviceBackend dev = OnDevice.safePoint(x.backend());
        OnDevice.Ref ids = OnDevice.ints(dev, rows, op + " ids [" + rows.length + "]");
        int N = rows.length;
        int[] touched = sparse ? rows.clone() : null;
        Tensor out = Tensor.zerosOn(dev, os);
        dev.embeddingForward(out.deviceArray(op), x.deviceArray(op), ids.array, N, C);
        if (Grad.needsGrad(x)) Grad.attach(out, new OnDevice.DeviceNode(op, x) {
            @Override
            void backwardOn(DeviceArray g) {
                Tensor t = input(0);
                DeviceArray dT = sparse && t.isLeaf() ? t.deviceGradBufferForRows(touched, C) : t.deviceGradBuffer();
                dev.embeddingBackward(dT, g, ids.array, N, C);
            }
        });
        return out;
    }
}

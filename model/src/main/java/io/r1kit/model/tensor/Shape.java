package io.r1kit.model.tensor;

import java.util.Arrays;

/**
 * Static helpers for shapes ({@code int[]}, row-major): element counts, formatting, validation
 * and numpy broadcasting. Shapes are never mutated once given to a {@link Tensor}.
 */
public final class Shape {
    private Shape() {}

    /** Number of elements of a shape (1 for the scalar shape {@code []}). */
    public static int numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            n *= d;
            if (n > Integer.MAX_VALUE)
                throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
        }
        return (int) n;
    }

    /** "[2, 3, 4]" */
    public static String str(int... shape) {
        return Arrays.toString(shape);
    }

    /** Product of dims [from, to). */
    public static int prod(int[] shape, int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return n;
    }

    /** Normalises a possibly negative dim index (-1 = last) and checks its range. */
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank)
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for rank " + rank);
        return d;
    }

    /**
     * The numpy broadcast of two shapes: dims aligned from the right, each pair equal or one of
     * them 1. Throws naming the op and both shapes when they are incompatible.
     */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * For every flat index of {@code out}, the flat index of the element of {@code in} it reads
     * when {@code in} is broadcast to {@code out}; null when the shapes are equal (identity).
     */
    public static int[] broadcastIndex(int[] in, int[] out) {
        if (Arrays.equals(in, out)) return null;
        int n = numel(out), r = out.length, off = r - in.length;
        int[] inStride = new int[r];                 // 0 on broadcast dims
        int s = 1;
        for (int i = r - 1; i >= 0; i--) {
            int d = i < off ? 1 : in[i - off];
            inStride[i] = d == 1 ? 0 : s;
            s *= d;
        }
        int[] idx = new int[n];
        int[] counter = new int[r];
        int cur = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = cur;
            for (int i = r - 1; i >= 0; i--) {       // odometer increment
                counter[i]++;
                cur += inStride[i];
                if (counter[i] < out[i]) break;
                cur -= inStride[i] * out[i];
                counter[i] = 0;
            }
        }
        return idx;
    }

    /** Throws unless the two shapes are identical. */
    public static void requireEqual(String op, int[] a, int[] b) {
        if (!Arrays.equals(a, b))
            throw new IllegalArgumentException(op + ": shapes must match, got " + str(a) + " and " + str(b));
    }
}

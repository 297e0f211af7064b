package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise kernels and reductions over flat ranges (see {@link io.r1kit.model.backend.Backend}).
 * The fast versions are memory-bound: one vector loop per chunk, chunks large enough
 * ({@link #GRAIN} floats) that the pool's hand-off costs nothing next to the memory traffic.
 */
public final class Elementwise {
    private Elementwise() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Doubles of the same total width as half a float vector's lanes: a float vector widens into two of these. */
    private static final VectorSpecies<Double> SD = VectorSpecies.of(double.class, S.vectorShape());
    /** Floats per parallel chunk for streaming kernels: ~128 KiB per operand. */
    static final int GRAIN = 1 << 15;
    /**
     * Row/range reductions work in fixed blocks of this many floats: the blocks do not depend
     * on the thread count, so results are deterministic on any machine. (In the softmax rows,
     * float lanes each add only BLOCK / lanes values before the block sum goes to double.)
     */
    static final int BLOCK = 4096;

    // ------------------------------------------------------------------ add: out = a + b

    public static void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check3("add", out, oOff, a, aOff, b, bOff, n);
        Parallel.forRange(n, GRAIN, (from, to) -> {
            int i = from, upper = from + S.loopBound(to - from);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i))
                        .intoArray(out, oOff + i);
            }
            for (; i < to; i++) out[oOff + i] = a[aOff + i] + b[bOff + i];
        });
    }

    public static void addReference(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check3("addReference", out, oOff, a, aOff, b, bOff, n);
        for (int i = 0; i < n; i++) out[oOff + i] = a[aOff + i] + b[bOff + i];
    }

    // ------------------------------------------------------------------ mul: out = a * b

    public static void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check3("mul", out, oOff, a, aOff, b, bOff, n);
        Parallel.forRange(n, GRAIN, (from, to) -> {
            int i = from, upper = from + S.loopBound(to - from);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i))
                        .intoArray(out, oOff + i);
            }
            for (; i < to; i++) out[oOff + i] = a[aOff + i] * b[bOff + i];
        });
    }

    public static void mulReference(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        check3("mulReference", out, oOff, a, aOff, b, bOff, n);
        for (int i = 0; i < n; i++) out[oOff + i] = a[aOff + i] * b[bOff + i];
    }

    // ------------------------------------------------------------------ axpy: y += alpha * x

    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        check2("axpy", "x", x, xOff, "y", y, yOff, n);
        Parallel.forRange(n, GRAIN, (from, to) -> {
            FloatVector va = FloatVector.broadcast(S, alpha);
            int i = from, upper = from + S.loopBound(to - from);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, x, xOff + i).fma(va, FloatVector.fromArray(S, y, yOff + i))
                        .intoArray(y, yOff + i);
            }
            for (; i < to; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        });
    }

    public static void axpyReference(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        check2("axpyReference", "x", x, xOff, "y", y, yOff, n);
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    // ------------------------------------------------------------------ scale: out = alpha * a

    public static void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        check2("scale", "out", out, oOff, "a", a, aOff, n);
        Parallel.forRange(n, GRAIN, (from, to) -> {
            int i = from, upper = from + S.loopBound(to - from);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, a, aOff + i).mul(alpha).intoArray(out, oOff + i);
            }
            for (; i < to; i++) out[oOff + i] = alpha * a[aOff + i];
        });
    }

    public static void scaleReference(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        check2("scaleReference", "out", out, oOff, "a", a, aOff, n);
        for (int i = 0; i < n; i++) out[oOff + i] = alpha * a[aOff + i];
    }

    // ------------------------------------------------------------------ reductions

    public static double sum(float[] a, int aOff, int n) {
        return blockedSum("sum", a, aOff, n, false);
    }

    public static double sumReference(float[] a, int aOff, int n) {
        KernelChecks.dims("sumReference", "n", n);
        KernelChecks.fits("sumReference", "a", a, aOff, n, () -> "[n=" + n + "]");
        double s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i];
        return s;
    }

    public static double sumSquares(float[] a, int aOff, int n) {
        return blockedSum("sumSquares", a, aOff, n, true);
    }

    public static double sumSquaresReference(float[] a, int aOff, int n) {
        KernelChecks.dims("sumSquaresReference", "n", n);
        KernelChecks.fits("sumSquaresReference", "a", a, aOff, n, () -> "[n=" + n + "]");
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[aOff + i] * a[aOff + i];
        return s;
    }

    /**
     * Sums (of squares) over fixed BLOCKs in parallel, then the block sums in order. Every float
     * is widened to double before it is squared or added (F2D conversions of each half of a
     * float vector), as the contract asks: the result differs from the scalar reference only by
     * double-precision summation order (~1e-16 relative), whatever n and the thread count.
     */
    private static double blockedSum(String op, float[] a, int aOff, int n, boolean squares) {
        KernelChecks.dims(op, "n", n);
        KernelChecks.fits(op, "a", a, aOff, n, () -> "[n=" + n + "]");
        int blocks = (n + BLOCK - 1) / BLOCK;
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, Math.max(1, GRAIN / BLOCK), (b0, b1) -> {
            for (int blk = b0; blk < b1; blk++) {
                partial[blk] = blockSum(a, aOff + blk * BLOCK, aOff + Math.min(n, (blk + 1) * BLOCK), squares);
            }
        });
        double s = 0;
        for (double p : partial) s += p;
        return s;
    }

    private static double blockSum(float[] a, int from, int to, boolean squares) {
        DoubleVector acc0 = DoubleVector.zero(SD), acc1 = DoubleVector.zero(SD);
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, a, i);
            DoubleVector lo = (DoubleVector) x.convertShape(VectorOperators.F2D, SD, 0);
            DoubleVector hi = (DoubleVector) x.convertShape(VectorOperators.F2D, SD, 1);
            acc0 = squares ? lo.fma(lo, acc0) : acc0.add(lo);
            acc1 = squares ? hi.fma(hi, acc1) : acc1.add(hi);
        }
        double s = VectorMath.sum(acc0.add(acc1));
        for (; i < to; i++) s += squares ? (double) a[i] * a[i] : a[i];
        return s;
    }

    // ------------------------------------------------------------------ checks

    private static void check3(String op, float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        KernelChecks.dims(op, "n", n);
        KernelChecks.Shape shape = () -> "[n=" + n + "]";
        KernelChecks.fits(op, "out", out, oOff, n, shape);
        KernelChecks.fits(op, "a", a, aOff, n, shape);
        KernelChecks.fits(op, "b", b, bOff, n, shape);
    }

    private static void check2(String op, String an, float[] a, int aOff, String bn, float[] b, int bOff, int n) {
        KernelChecks.dims(op, "n", n);
        KernelChecks.Shape shape = () -> "[n=" + n + "]";
        KernelChecks.fits(op, an, a, aOff, n, shape);
        KernelChecks.fits(op, bn, b, bOff, n, shape);
    }
}

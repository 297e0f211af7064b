package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * SwiGLU gate (see {@link io.r1kit.model.backend.Backend#swigluForward}): out = silu(a) * b with
 * silu(a) = a * sigmoid(a). Backward: silu'(a) = sig(a) * (1 + a * (1 - sig(a))), so
 * da += dout * b * silu'(a), db += dout * silu(a).
 */
public final class SwiGluKernel {
    private SwiGluKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** exp is ~10x an add: smaller chunks than the streaming kernels still amortise the hand-off. */
    private static final int GRAIN = 1 << 13;

    public static void swigluForward(float[] out, float[] a, float[] b, int n) {
        check("swigluForward", out, "out", a, b, n);
        Parallel.forRange(n, GRAIN, (from, to) -> forwardRange(out, a, b, from, to));
    }

    public static void swigluForwardReference(float[] out, float[] a, float[] b, int n) {
        check("swigluForwardReference", out, "out", a, b, n);
        for (int i = 0; i < n; i++) {
            double sig = 1.0 / (1.0 + Math.exp(-a[i]));
            out[i] = (float) (a[i] * sig * b[i]);
        }
    }

    public static void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        check("swigluBackward", dout, "dout", a, b, n);
        KernelChecks.fits("swigluBackward", "da", da, n, () -> "[n=" + n + "]");
        KernelChecks.fits("swigluBackward", "db", db, n, () -> "[n=" + n + "]");
        Parallel.forRange(n, GRAIN, (from, to) -> backwardRange(da, db, dout, a, b, from, to));
    }

    public static void swigluBackwardReference(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        check("swigluBackwardReference", dout, "dout", a, b, n);
        KernelChecks.fits("swigluBackwardReference", "da", da, n, () -> "[n=" + n + "]");
        KernelChecks.fits("swigluBackwardReference", "db", db, n, () -> "[n=" + n + "]");
        for (int i = 0; i < n; i++) {
            double sig = 1.0 / (1.0 + Math.exp(-a[i]));
            double silu = a[i] * sig;
            double dsilu = sig * (1.0 + a[i] * (1.0 - sig));
            da[i] += (float) (dout[i] * b[i] * dsilu);
            db[i] += (float) (dout[i] * silu);
        }
    }

    private static void check(String op, float[] o, String oName, float[] a, float[] b, int n) {
        KernelChecks.dims(op, "n", n);
        KernelChecks.Shape shape = () -> "[n=" + n + "]";
        KernelChecks.fits(op, oName, o, n, shape);
        KernelChecks.fits(op, "a", a, n, shape);
        KernelChecks.fits(op, "b", b, n, shape);
    }

    /** Forward over [from, to). */
    private static void forwardRange(float[] out, float[] a, float[] b, int from, int to) {
        FloatVector ONE = FloatVector.broadcast(S, 1f);
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += S.length()) {
            FloatVector av = FloatVector.fromArray(S, a, i);
            FloatVector sig = ONE.div(VectorMath.exp(av.neg()).add(1f));
            av.mul(sig).mul(FloatVector.fromArray(S, b, i)).intoArray(out, i);
        }
        for (; i < to; i++) {
            float sig = 1f / (1f + (float) Math.exp(-a[i]));
            out[i] = a[i] * sig * b[i];
        }
    }


    /** Backward over [from, to). */
    private static void backwardRange(float[] da, float[] db, float[] dout, float[] a, float[] b, int from, int to) {
        FloatVector ONE = FloatVector.broadcast(S, 1f);
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += S.length()) {
            FloatVector av = FloatVector.fromArray(S, a, i);
            FloatVector d = FloatVector.fromArray(S, dout, i);
            FloatVector sig = ONE.div(VectorMath.exp(av.neg()).add(1f));
            FloatVector silu = av.mul(sig);
            // silu' = sig * (1 + a * (1 - sig)) = sig + silu * (1 - sig)
            FloatVector dsilu = silu.fma(sig.neg().add(1f), sig);
            d.mul(FloatVector.fromArray(S, b, i)).fma(dsilu, FloatVector.fromArray(S, da, i)).intoArray(da, i);
            d.fma(silu, FloatVector.fromArray(S, db, i)).intoArray(db, i);
        }
        for (; i < to; i++) {
            float sig = 1f / (1f + (float) Math.exp(-a[i]));
            float silu = a[i] * sig;
            float dsilu = sig + silu * (1f - sig);
            da[i] += dout[i] * b[i] * dsilu;
            db[i] += dout[i] * silu;
        }
    }

}

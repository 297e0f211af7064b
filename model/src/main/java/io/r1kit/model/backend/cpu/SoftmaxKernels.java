package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Row-wise softmax family over [N, V] (see {@link io.r1kit.model.backend.Backend}): softmax,
 * log-softmax, the fused token log-prob (log-softmax + gather) and the entropy, each with its
 * backward. The fused kernels never allocate [N, V]: they recompute p = exp(x - lse) from the
 * logits and the saved per-row lse, so they run on [tokens, vocab=150k] logits in place.
 *
 * <p>Fast versions: rows in parallel, each row in a few vector passes (max, then sum of exp,
 * then the write). Row sums are taken in float vector lanes over fixed blocks of
 * {@link Elementwise#BLOCK} floats and the block sums added in double, so a 150k-wide row keeps
 * ~float-epsilon relative error and the result does not depend on the thread count.
 * References: plain loops in double.
 */
public final class SoftmaxKernels {
    private SoftmaxKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int BLOCK = Elementwise.BLOCK;
    /** Floats per parallel chunk: exp-heavy rows, so smaller than the streaming grain. */
    private static final int GRAIN = 1 << 13;

    // =================================================================== softmax

    public static void softmaxForward(float[] out, float[] x, int N, int V) {
        checkNV("softmaxForward", "out", out, "x", x, N, V);
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> softmaxRows(out, x, V, r0, r1));
    }

    public static void softmaxForwardReference(float[] out, float[] x, int N, int V) {
        checkNV("softmaxForwardReference", "out", out, "x", x, N, V);
        for (int n = 0; n < N; n++) {
            int base = n * V;
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < V; i++) m = Math.max(m, x[base + i]);
            double s = 0;
            for (int i = 0; i < V; i++) s += Math.exp(x[base + i] - m);
            for (int i = 0; i < V; i++) out[base + i] = (float) (Math.exp(x[base + i] - m) / s);
        }
    }

    public static void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        checkNV("softmaxBackward", "dx", dx, "dy", dy, N, V);
        KernelChecks.fits("softmaxBackward", "y", y, (long) N * V, () -> nv(N, V));
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> softmaxBackwardRows(dx, dy, y, V, r0, r1));
    }

    public static void softmaxBackwardReference(float[] dx, float[] dy, float[] y, int N, int V) {
        checkNV("softmaxBackwardReference", "dx", dx, "dy", dy, N, V);
        KernelChecks.fits("softmaxBackwardReference", "y", y, (long) N * V, () -> nv(N, V));
        for (int n = 0; n < N; n++) {
            int base = n * V;
            double dot = 0;
            for (int i = 0; i < V; i++) dot += (double) dy[base + i] * y[base + i];
            for (int i = 0; i < V; i++) dx[base + i] += (float) (y[base + i] * (dy[base + i] - dot));
        }
    }

    // =================================================================== log-softmax

    public static void logSoftmaxForward(float[] out, float[] x, int N, int V) {
        checkNV("logSoftmaxForward", "out", out, "x", x, N, V);
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> logSoftmaxRows(out, x, V, r0, r1));
    }

    public static void logSoftmaxForwardReference(float[] out, float[] x, int N, int V) {
        checkNV("logSoftmaxForwardReference", "out", out, "x", x, N, V);
        for (int n = 0; n < N; n++) {
            double lse = logSumExpReference(x, n * V, V);
            for (int i = 0; i < V; i++) out[n * V + i] = (float) (x[n * V + i] - lse);
        }
    }

    public static void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        checkNV("logSoftmaxBackward", "dx", dx, "dy", dy, N, V);
        KernelChecks.fits("logSoftmaxBackward", "y", y, (long) N * V, () -> nv(N, V));
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> logSoftmaxBackwardRows(dx, dy, y, V, r0, r1));
    }

    public static void logSoftmaxBackwardReference(float[] dx, float[] dy, float[] y, int N, int V) {
        checkNV("logSoftmaxBackwardReference", "dx", dx, "dy", dy, N, V);
        KernelChecks.fits("logSoftmaxBackwardReference", "y", y, (long) N * V, () -> nv(N, V));
        for (int n = 0; n < N; n++) {
            int base = n * V;
            double sdy = 0;
            for (int i = 0; i < V; i++) sdy += dy[base + i];
            for (int i = 0; i < V; i++) dx[base + i] += (float) (dy[base + i] - Math.exp(y[base + i]) * sdy);
        }
    }

    // =================================================================== token log-probs

    public static void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        checkTargets("tokenLogProbsForward", out, lse, logits, target, N, V);
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> tokenLogProbsRows(out, lse, logits, target, V, r0, r1));
    }

    public static void tokenLogProbsForwardReference(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        checkTargets("tokenLogProbsForwardReference", out, lse, logits, target, N, V);
        for (int n = 0; n < N; n++) {
            double l = logSumExpReference(logits, n * V, V);
            lse[n] = (float) l;
            out[n] = target[n] < 0 ? 0f : (float) (logits[n * V + target[n]] - l);
        }
    }

    public static void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        checkTargets("tokenLogProbsBackward", dout, lse, logits, target, N, V);
        KernelChecks.fits("tokenLogProbsBackward", "dlogits", dlogits, (long) N * V, () -> nv(N, V));
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> tokenLogProbsBackwardRows(dlogits, dout, logits, lse, target, V, r0, r1));
    }

    public static void tokenLogProbsBackwardReference(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        checkTargets("tokenLogProbsBackwardReference", dout, lse, logits, target, N, V);
        KernelChecks.fits("tokenLogProbsBackwardReference", "dlogits", dlogits, (long) N * V, () -> nv(N, V));
        for (int n = 0; n < N; n++) {
            if (target[n] < 0) continue;
            for (int i = 0; i < V; i++) {
                double p = Math.exp((double) logits[n * V + i] - lse[n]);
                double onehot = i == target[n] ? 1.0 : 0.0;
                dlogits[n * V + i] += (float) (dout[n] * (onehot - p));
            }
        }
    }

    // =================================================================== entropy

    public static void entropyForward(float[] out, float[] lse, float[] logits, int N, int V) {
        checkEntropy("entropyForward", out, lse, logits, N, V);
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> {
            for (int n = r0; n < r1; n++) entropyRow(out, lse, logits, n, V);
        });
    }

    /**
     * One row of the entropy. With m = max, e = exp(x - m), Z = sum e:
     * H = -sum p log p = log Z - sum e (x - m) / Z, and lse = m + log Z.
     * (A separate small method so C2 compiles the vector loop on its own and keeps it intrinsic.)
     */
    private static void entropyRow(float[] out, float[] lse, float[] logits, int n, int V) {
        int base = n * V;
        float m = rowMax(logits, base, V);
        // -inf logits (masked vocabulary) give e = 0; d is clamped to a finite value so
        // that their e * d is 0 rather than 0 * -inf = NaN.
        double z = 0, ex = 0;
        FloatVector mv = FloatVector.broadcast(S, m);
        FloatVector lowest = FloatVector.broadcast(S, -Float.MAX_VALUE);
        for (int b0 = 0; b0 < V; b0 += BLOCK) {
            int b1 = Math.min(V, b0 + BLOCK);
            FloatVector zAcc = FloatVector.zero(S), exAcc = FloatVector.zero(S);
            int i = b0, upper = b0 + S.loopBound(b1 - b0);
            for (; i < upper; i += S.length()) {
                FloatVector d = FloatVector.fromArray(S, logits, base + i).sub(mv).max(lowest);
                FloatVector e = VectorMath.exp(d);
                zAcc = zAcc.add(e);
                exAcc = e.fma(d, exAcc);
            }
            z += VectorMath.sum(zAcc);
            ex += VectorMath.sum(exAcc);
            for (; i < b1; i++) {
                double d = Math.max(logits[base + i] - m, -Float.MAX_VALUE);
                double e = Math.exp(d);
                z += e;
                ex += e * d;
            }
        }
        double logZ = Math.log(z);
        lse[n] = (float) (m + logZ);
        out[n] = (float) (logZ - ex / z);
    }

    public static void entropyForwardReference(float[] out, float[] lse, float[] logits, int N, int V) {
        checkEntropy("entropyForwardReference", out, lse, logits, N, V);
        for (int n = 0; n < N; n++) {
            double l = logSumExpReference(logits, n * V, V);
            double h = 0;
            for (int i = 0; i < V; i++) {
                double logp = logits[n * V + i] - l;
                if (logp > Double.NEGATIVE_INFINITY) h -= Math.exp(logp) * logp;   // 0 log 0 = 0
            }
            lse[n] = (float) l;
            out[n] = (float) h;
        }
    }

    public static void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        checkEntropy("entropyBackward", dout, lse, logits, N, V);
        KernelChecks.fits("entropyBackward", "entropy", entropy, N, () -> "[N=" + N + "]");
        KernelChecks.fits("entropyBackward", "dlogits", dlogits, (long) N * V, () -> nv(N, V));
        Parallel.forRange(N, rowGrain(V), (r0, r1) -> entropyBackwardRows(dlogits, dout, logits, lse, entropy, V, r0, r1));
    }

    public static void entropyBackwardReference(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        checkEntropy("entropyBackwardReference", dout, lse, logits, N, V);
        KernelChecks.fits("entropyBackwardReference", "entropy", entropy, N, () -> "[N=" + N + "]");
        KernelChecks.fits("entropyBackwardReference", "dlogits", dlogits, (long) N * V, () -> nv(N, V));
        for (int n = 0; n < N; n++) {
            for (int i = 0; i < V; i++) {
                double logp = (double) logits[n * V + i] - lse[n];
                if (logp == Double.NEGATIVE_INFINITY) continue;   // p = 0: no gradient
                double p = Math.exp(logp);
                dlogits[n * V + i] += (float) (dout[n] * (-p * (logp + entropy[n])));
            }
        }
    }

    // =================================================================== row loops (fast path)
    // Small static methods, so C2 compiles each vector loop on its own (a big lambda can stay
    // interpreted-then-OSR for long and box its vectors).

    private static void softmaxRows(float[] out, float[] x, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            int base = n * V;
            float m = rowMax(x, base, V);
            double s = sumExpShifted(x, base, V, m, out);   // out = exp(x - m)
            scaleRow(out, base, V, (float) (1.0 / s));
        }
    }

    private static void softmaxBackwardRows(float[] dx, float[] dy, float[] y, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            int base = n * V;
            float dot = (float) dotRow(dy, y, base, V);
            // dx += y * (dy - dot)
            int i = 0, upper = S.loopBound(V);
            for (; i < upper; i += S.length()) {
                FloatVector yv = FloatVector.fromArray(S, y, base + i);
                FloatVector.fromArray(S, dy, base + i).sub(dot)
                        .fma(yv, FloatVector.fromArray(S, dx, base + i)).intoArray(dx, base + i);
            }
            for (; i < V; i++) dx[base + i] += y[base + i] * (dy[base + i] - dot);
        }
    }

    private static void logSoftmaxRows(float[] out, float[] x, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            int base = n * V;
            float m = rowMax(x, base, V);
            float lse = (float) (m + Math.log(sumExpShifted(x, base, V, m, null)));
            int i = 0, upper = S.loopBound(V);
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, x, base + i).sub(lse).intoArray(out, base + i);
            }
            for (; i < V; i++) out[base + i] = x[base + i] - lse;
        }
    }

    private static void logSoftmaxBackwardRows(float[] dx, float[] dy, float[] y, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            int base = n * V;
            float sdy = (float) sumRow(dy, base, V);
            // dx += dy - exp(y) * sum(dy)
            FloatVector negS = FloatVector.broadcast(S, -sdy);
            int i = 0, upper = S.loopBound(V);
            for (; i < upper; i += S.length()) {
                FloatVector p = VectorMath.exp(FloatVector.fromArray(S, y, base + i));
                p.fma(negS, FloatVector.fromArray(S, dy, base + i)).add(FloatVector.fromArray(S, dx, base + i))
                        .intoArray(dx, base + i);
            }
            for (; i < V; i++) dx[base + i] += dy[base + i] - (float) Math.exp(y[base + i]) * sdy;
        }
    }

    private static void tokenLogProbsRows(float[] out, float[] lse, float[] logits, int[] target, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            int base = n * V;
            float m = rowMax(logits, base, V);
            float l = (float) (m + Math.log(sumExpShifted(logits, base, V, m, null)));
            lse[n] = l;
            out[n] = target[n] < 0 ? 0f : logits[base + target[n]] - l;
        }
    }

    private static void tokenLogProbsBackwardRows(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            if (target[n] < 0 || dout[n] == 0f) continue;
            int base = n * V;
            float g = dout[n], l = lse[n];
            // dlogits += -g * exp(x - lse), then += g at the target
            FloatVector negG = FloatVector.broadcast(S, -g);
            int i = 0, upper = S.loopBound(V);
            for (; i < upper; i += S.length()) {
                FloatVector p = VectorMath.exp(FloatVector.fromArray(S, logits, base + i).sub(l));
                p.fma(negG, FloatVector.fromArray(S, dlogits, base + i)).intoArray(dlogits, base + i);
            }
            for (; i < V; i++) dlogits[base + i] -= g * (float) Math.exp(logits[base + i] - l);
            dlogits[base + target[n]] += g;
        }
    }

    private static void entropyBackwardRows(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int V, int r0, int r1) {
        for (int n = r0; n < r1; n++) {
            if (dout[n] == 0f) continue;
            int base = n * V;
            float g = dout[n], l = lse[n], h = entropy[n];
            // dlogits += -g * p * (log p + H), log p = x - lse (taken first: exact when x ~ lse)
            FloatVector negG = FloatVector.broadcast(S, -g);
            FloatVector lowest = FloatVector.broadcast(S, -Float.MAX_VALUE);
            int i = 0, upper = S.loopBound(V);
            for (; i < upper; i += S.length()) {
                // clamp: a -inf logit has p = 0 and must contribute 0, not 0 * -inf
                FloatVector logp = FloatVector.fromArray(S, logits, base + i).sub(l).max(lowest);
                FloatVector p = VectorMath.exp(logp);
                p.mul(logp.add(h)).fma(negG, FloatVector.fromArray(S, dlogits, base + i)).intoArray(dlogits, base + i);
            }
            for (; i < V; i++) {
                float logp = Math.max(logits[base + i] - l, -Float.MAX_VALUE);
                float p = (float) Math.exp(logp);
                dlogits[base + i] -= g * p * (logp + h);
            }
        }
    }

    // =================================================================== row helpers (fast path)

    /** max over row[base, base+V); -inf for an empty row. */
    static float rowMax(float[] x, int base, int V) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0, upper = S.loopBound(V);
        for (; i < upper; i += S.length()) acc = acc.max(FloatVector.fromArray(S, x, base + i));
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < V; i++) m = Math.max(m, x[base + i]);
        return m;
    }

    /** sum of exp(x - m) over the row; when {@code out} is not null also writes exp(x - m) there. */
    static double sumExpShifted(float[] x, int base, int V, float m, float[] out) {
        double s = 0;
        FloatVector mv = FloatVector.broadcast(S, m);
        for (int b0 = 0; b0 < V; b0 += BLOCK) {
            int b1 = Math.min(V, b0 + BLOCK);
            FloatVector acc = FloatVector.zero(S);
            int i = b0, upper = b0 + S.loopBound(b1 - b0);
            for (; i < upper; i += S.length()) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, base + i).sub(mv));
                if (out != null) e.intoArray(out, base + i);
                acc = acc.add(e);
            }
            s += VectorMath.sum(acc);
            for (; i < b1; i++) {
                float e = (float) Math.exp(x[base + i] - m);
                if (out != null) out[base + i] = e;
                s += e;
            }
        }
        return s;
    }

    private static double dotRow(float[] a, float[] b, int base, int V) {
        double s = 0;
        for (int b0 = 0; b0 < V; b0 += BLOCK) {
            int b1 = Math.min(V, b0 + BLOCK);
            FloatVector acc = FloatVector.zero(S);
            int i = b0, upper = b0 + S.loopBound(b1 - b0);
            for (; i < upper; i += S.length()) {
                acc = FloatVector.fromArray(S, a, base + i).fma(FloatVector.fromArray(S, b, base + i), acc);
            }
            s += VectorMath.sum(acc);
            for (; i < b1; i++) s += (double) a[base + i] * b[base + i];
        }
        return s;
    }

    private static double sumRow(float[] a, int base, int V) {
        double s = 0;
        for (int b0 = 0; b0 < V; b0 += BLOCK) {
            int b1 = Math.min(V, b0 + BLOCK);
            FloatVector acc = FloatVector.zero(S);
            int i = b0, upper = b0 + S.loopBound(b1 - b0);
            for (; i < upper; i += S.length()) acc = acc.add(FloatVector.fromArray(S, a, base + i));
            s += VectorMath.sum(acc);
            for (; i < b1; i++) s += a[base + i];
        }
        return s;
    }

    private static void scaleRow(float[] a, int base, int V, float c) {
        int i = 0, upper = S.loopBound(V);
        for (; i < upper; i += S.length()) FloatVector.fromArray(S, a, base + i).mul(c).intoArray(a, base + i);
        for (; i < V; i++) a[base + i] *= c;
    }

    private static double logSumExpReference(float[] x, int base, int V) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) m = Math.max(m, x[base + i]);
        double s = 0;
        for (int i = 0; i < V; i++) s += Math.exp(x[base + i] - m);
        return m + Math.log(s);
    }

    private static int rowGrain(int V) {
        return Math.max(1, GRAIN / Math.max(1, V));
    }

    // =================================================================== checks

    private static String nv(int N, int V) {
        return "[N=" + N + ",V=" + V + "]";
    }

    private static void checkNV(String op, String an, float[] a, String bn, float[] b, int N, int V) {
        KernelChecks.dims(op, "N, V", N, V);
        KernelChecks.fits(op, an, a, (long) N * V, () -> nv(N, V));
        KernelChecks.fits(op, bn, b, (long) N * V, () -> nv(N, V));
    }

    private static void checkTargets(String op, float[] perRow, float[] lse, float[] logits, int[] target, int N, int V) {
        checkEntropy(op, perRow, lse, logits, N, V);
        KernelChecks.fits(op, "target", target, N, () -> "[N=" + N + "]");
        for (int n = 0; n < N; n++) {
            if (target[n] >= V) {
                throw new IllegalArgumentException(op + ": target[" + n + "]=" + target[n]
                        + " is outside the vocabulary [0, V=" + V + ") (negative = ignored position)");
            }
        }
    }

    private static void checkEntropy(String op, float[] perRow, float[] lse, float[] logits, int N, int V) {
        KernelChecks.dims(op, "N, V", N, V);
        KernelChecks.fits(op, "logits", logits, (long) N * V, () -> nv(N, V));
        KernelChecks.fits(op, "out/dout", perRow, N, () -> "[N=" + N + "]");
        KernelChecks.fits(op, "lse", lse, N, () -> "[N=" + N + "]");
    }
}

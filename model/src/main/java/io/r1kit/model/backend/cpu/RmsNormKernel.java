package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm (see {@link io.r1kit.model.backend.Backend#rmsnormForward}):
 * out[N,C] = x * rstd * w, rstd[n] = 1 / sqrt(mean(x[n,:]^2) + eps), as Hugging Face's
 * LlamaRMSNorm computes it in fp32 (normalise first, then multiply by the weight).
 *
 * <p>Backward, with r = rstd[n] and g = dout[n,:] * w:
 * dx[n,i] += r * g_i - r^3 / C * x_i * sum_j(g_j x_j);   dw[i] += sum_n dout[n,i] * x[n,i] * r.
 */
public final class RmsNormKernel {
    private RmsNormKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /**
     * At most this many row chunks in the backward, each summing dw into its own partial row.
     * The chunking depends on N and C only, so dw does not depend on the thread count.
     */
    private static final int DW_MAX_CHUNKS = 64;

    // ------------------------------------------------------------------ forward

    public static void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        checkForward("rmsnormForward", out, rstd, x, w, N, C);
        Parallel.forRange(N, rowGrain(C), (r0, r1) -> forwardRows(out, rstd, x, w, C, eps, r0, r1));
    }

    public static void rmsnormForwardReference(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        checkForward("rmsnormForwardReference", out, rstd, x, w, N, C);
        for (int n = 0; n < N; n++) {
            double ss = 0;
            for (int i = 0; i < C; i++) ss += (double) x[n * C + i] * x[n * C + i];
            float r = (float) (1.0 / Math.sqrt(ss / C + eps));
            rstd[n] = r;
            for (int i = 0; i < C; i++) out[n * C + i] = x[n * C + i] * r * w[i];
        }
    }

    // ------------------------------------------------------------------ backward

    public static void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        checkBackward("rmsnormBackward", dx, dw, dout, x, w, rstd, N, C);
        if (N == 0 || C == 0) return;
        // dw is a sum over rows: each chunk of rows sums into its own partial row, and the
        // partials are added in chunk order afterwards (no races, deterministic).
        int rowsPerChunk = Math.max((N + DW_MAX_CHUNKS - 1) / DW_MAX_CHUNKS, Math.max(1, rowGrain(C) / 4));
        int chunks = (N + rowsPerChunk - 1) / rowsPerChunk;
        float[] dwPartial = new float[chunks * C];
        Parallel.forRange(chunks, 1, (c0, c1) -> backwardChunks(dx, dwPartial, dout, x, w, rstd, N, C, rowsPerChunk, c0, c1));
        Parallel.forRange(C, Elementwise.GRAIN / Math.max(1, chunks), (i0, i1) -> {
            for (int chunk = 0; chunk < chunks; chunk++) {
                int pBase = chunk * C, i = i0, upper = i0 + S.loopBound(i1 - i0);
                for (; i < upper; i += S.length()) {
                    FloatVector.fromArray(S, dw, i).add(FloatVector.fromArray(S, dwPartial, pBase + i)).intoArray(dw, i);
                }
                for (; i < i1; i++) dw[i] += dwPartial[pBase + i];
            }
        });
    }

    public static void rmsnormBackwardReference(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        checkBackward("rmsnormBackwardReference", dx, dw, dout, x, w, rstd, N, C);
        double[] dwAcc = new double[C];
        for (int n = 0; n < N; n++) {
            double r = rstd[n];
            double dot = 0;
            for (int i = 0; i < C; i++) dot += (double) dout[n * C + i] * w[i] * x[n * C + i];
            for (int i = 0; i < C; i++) {
                double xi = x[n * C + i];
                dx[n * C + i] += (float) (r * dout[n * C + i] * w[i] - r * r * r / C * xi * dot);
                dwAcc[i] += dout[n * C + i] * xi * r;
            }
        }
        for (int i = 0; i < C; i++) dw[i] += (float) dwAcc[i];
    }

    // ------------------------------------------------------------------ helpers

    /** Rows per parallel chunk so that a chunk touches ~GRAIN floats. */
    private static int rowGrain(int C) {
        return Math.max(1, Elementwise.GRAIN / Math.max(1, C));
    }

    private static void checkForward(String op, float[] out, float[] rstd, float[] x, float[] w, int N, int C) {
        KernelChecks.dims(op, "N, C", N, C);
        KernelChecks.Shape nc = () -> "[N=" + N + ",C=" + C + "]";
        KernelChecks.fits(op, "out", out, (long) N * C, nc);
        KernelChecks.fits(op, "x", x, (long) N * C, nc);
        KernelChecks.fits(op, "w", w, C, () -> "[C=" + C + "]");
        KernelChecks.fits(op, "rstd", rstd, N, () -> "[N=" + N + "]");
    }

    private static void checkBackward(String op, float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        KernelChecks.dims(op, "N, C", N, C);
        KernelChecks.Shape nc = () -> "[N=" + N + ",C=" + C + "]";
        KernelChecks.fits(op, "dx", dx, (long) N * C, nc);
        KernelChecks.fits(op, "dout", dout, (long) N * C, nc);
        KernelChecks.fits(op, "x", x, (long) N * C, nc);
        KernelChecks.fits(op, "w", w, C, () -> "[C=" + C + "]");
        KernelChecks.fits(op, "dw", dw, C, () -> "[C=" + C + "]");
        KernelChecks.fits(op, "rstd", rstd, N, () -> "[N=" + N + "]");
    }

    /** Forward of rows [r0, r1). (Kernel bodies are small static methods so C2 compiles each vector loop on its own.) */
    private static void forwardRows(float[] out, float[] rstd, float[] x, float[] w, int C, float eps, int r0, int r1) {
        int upper = S.loopBound(C);
        for (int n = r0; n < r1; n++) {
            int base = n * C;
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i < upper; i += S.length()) {
                FloatVector xv = FloatVector.fromArray(S, x, base + i);
                acc = xv.fma(xv, acc);
            }
            float ss = VectorMath.sum(acc);
            for (; i < C; i++) ss += x[base + i] * x[base + i];
            float r = (float) (1.0 / Math.sqrt(ss / C + eps));
            rstd[n] = r;
            i = 0;
            for (; i < upper; i += S.length()) {
                FloatVector.fromArray(S, x, base + i).mul(r).mul(FloatVector.fromArray(S, w, i))
                        .intoArray(out, base + i);
            }
            for (; i < C; i++) out[base + i] = x[base + i] * r * w[i];
        }
    }


    /** Backward of the row chunks [c0, c1): dx directly, dw into each chunk's own partial row. */
    private static void backwardChunks(float[] dx, float[] dwPartial, float[] dout, float[] x, float[] w, float[] rstd, int N, int C, int rowsPerChunk, int c0, int c1) {
        int upper = S.loopBound(C);
        for (int chunk = c0; chunk < c1; chunk++) {
            int pBase = chunk * C;
            for (int n = chunk * rowsPerChunk, nEnd = Math.min(N, n + rowsPerChunk); n < nEnd; n++) {
                int base = n * C;
                float r = rstd[n];
                // dot = sum_j dout_j w_j x_j
                FloatVector acc = FloatVector.zero(S);
                int i = 0;
                for (; i < upper; i += S.length()) {
                    FloatVector g = FloatVector.fromArray(S, dout, base + i).mul(FloatVector.fromArray(S, w, i));
                    acc = g.fma(FloatVector.fromArray(S, x, base + i), acc);
                }
                float dot = VectorMath.sum(acc);
                for (; i < C; i++) dot += dout[base + i] * w[i] * x[base + i];
                float c = -r * r * r / C * dot;
                FloatVector rv = FloatVector.broadcast(S, r), cv = FloatVector.broadcast(S, c);
                i = 0;
                for (; i < upper; i += S.length()) {
                    FloatVector d = FloatVector.fromArray(S, dout, base + i);
                    FloatVector xv = FloatVector.fromArray(S, x, base + i);
                    FloatVector g = d.mul(FloatVector.fromArray(S, w, i));
                    // dx += r * g + c * x
                    g.fma(rv, xv.fma(cv, FloatVector.fromArray(S, dx, base + i))).intoArray(dx, base + i);
                    // dwPartial += dout * (x * r)
                    d.fma(xv.mul(rv), FloatVector.fromArray(S, dwPartial, pBase + i)).intoArray(dwPartial, pBase + i);
                }
                for (; i < C; i++) {
                    float d = dout[base + i], xi = x[base + i];
                    dx[base + i] += r * d * w[i] + c * xi;
                    dwPartial[pBase + i] += d * (xi * r);
                }
            }
        }
    }

}

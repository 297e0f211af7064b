package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * GEMMs with one tiny side (a few rows, as when decoding one token per sequence, or a few
 * columns, as in a value head). They are bandwidth bound: every element of the big operand is
 * used by only a handful of FMAs, so packing it would cost as much as the multiply. These
 * kernels stream the big operand exactly as it is stored.
 *
 * <ul>
 *   <li>{@link #dotForm}: C[i,j] = dot(X[i,:], Y[j,:]) with X [M,K] and Y [N,K] both
 *       contiguous along K (x·Wᵀ against a [N,K] weight, or any layout after copying the
 *       small operand).</li>
 *   <li>{@link #axpyForm}: C[i,:] = sum_k X[i,k] · B[k,:] with B [K,N] row-major (x·W).</li>
 * </ul>
 */
final class GemmSkinny {
    private GemmSkinny() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();

    /** The small side of a "skinny" GEMM: at most this many rows (or columns). */
    static final int MAX = 8;

    /**
     * With B transposed (x·Wᵀ against a [N, K] weight) the dot form needs no packing, while the
     * packed path must first transpose all of B (a fixed ~1.7 ns per element of B in context).
     * Measured here (N = 4096, K = 1024, one thread, CPU time): the dot form wins up to about
     * 96 rows (M = 64: 7.2 vs 11.3 ms; M = 128: even; M = 256: 33.5 vs 25.4 ms).
     */
    static final int MAX_ROWS_DOT = 64;

    /**
     * Rows up to which the axpy form beats packing for x·W (B [K, N] row-major). Measured here
     * (N = 4096, K = 1024, one thread, CPU time): M = 8: 2.2 vs 3.9 ms, M = 16: 3.9 vs 4.2 ms,
     * M = 32: 7.8 vs 5.9 ms.
     */
    static final int MAX_ROWS_AXPY = 12;

    /** Columns per axpy-form chunk: 4 vectors = 4 independent FMA chains per row. */
    static final int AXPY_COLS = 4 * V;

    private static final ThreadLocal<float[][]> SMALL = ThreadLocal.withInitial(() -> new float[1][0]);

    /** A thread-local scratch array of at least n floats, for the copy of the small operand. */
    static float[] scratch(int n) {
        float[][] h = SMALL.get();
        if (h[0].length < n) h[0] = new float[n];
        return h[0];
    }

    /** Copies the [rows, cols] matrix stored column-major (i.e. its transpose, [cols, rows] row-major) into dst row-major. */
    static void transposeInto(float[] src, int off, int rows, int cols, float[] dst) {
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < cols; k++) dst[i * cols + k] = src[off + k * rows + i];
        }
    }

    // ------------------------------------------------------------------ dot form

    /**
     * C[i,j] = alpha * dot(X[i,:], Y[j,:]) + beta * C[i,j], X: [M,K] at xOff, Y: [N,K] at yOff,
     * C: [M,N] at cOff. Parallel over whichever of M and N is larger.
     */
    static void dotForm(int M, int N, int K, float alpha, float[] X, int xOff, float[] Y, int yOff,
                        float beta, float[] C, int cOff) {
        if (N >= M) {
            int groups = (N + 3) / 4;
            Parallel.forRange(groups, grain(groups, 8L * M * K), (g0, g1) ->
                    dots(0, M, g0 * 4, Math.min(N, g1 * 4), N, K, alpha, X, xOff, Y, yOff, beta, C, cOff));
        } else {
            Parallel.forRange(M, grain(M, 2L * N * K), (i0, i1) ->
                    dots(i0, i1, 0, N, N, K, alpha, X, xOff, Y, yOff, beta, C, cOff));
        }
    }

    /**
     * Grain for {@link Parallel#forRange} over n items of flopsPerItem each: one chunk when the
     * whole call is too small to be worth forking, else chunks of at least half the threshold.
     */
    static int grain(int n, long flopsPerItem) {
        long total = n * flopsPerItem, min = GemmPacked.PARALLEL_MIN_FLOPS;
        if (total < min) return Math.max(1, n);
        return (int) Math.max(1, Math.min(n, (min / 2) / Math.max(1, flopsPerItem)));
    }

    /**
     * Rows [i0,i1) x columns [j0,j1) of the dot form: four columns (Y rows, kept in L1) at a
     * time against two X rows at a time, then the odd row and the last columns.
     */
    private static void dots(int i0, int i1, int j0, int j1, int N, int K, float alpha, float[] X, int xOff,
                             float[] Y, int yOff, float beta, float[] C, int cOff) {
        for (int j = j0; j < j1; j += 4) {
            int nj = Math.min(4, j1 - j), y = yOff + j * K;
            int i = i0;
            if (nj == 4) {
                for (; i + 2 <= i1; i += 2) {
                    dot2x4(K, alpha, X, xOff + i * K, Y, y, beta, C, cOff + i * N + j, N);
                }
            }
            for (; i < i1; i++) {
                int xi = xOff + i * K, ci = cOff + i * N + j;
                if (nj == 4) {
                    dot4(K, alpha, X, xi, Y, y, beta, C, ci);
                } else {
                    for (int jj = 0; jj < nj; jj++) {
                        C[ci + jj] = blend(alpha, dot(K, X, xi, Y, y + jj * K), beta, C[ci + jj]);
                    }
                }
            }
        }
    }

    /**
     * A 2 x 4 tile of dot products: X rows x0, x0+K against Y rows y0 .. y0+3K. Eight
     * independent FMA chains, 6 loads per 8 FMAs; the vectors never leave this method.
     */
    private static void dot2x4(int K, float alpha, float[] X, int x0, float[] Y, int y0, float beta,
                               float[] C, int c0, int ldc) {
        int x1 = x0 + K, y1 = y0 + K, y2 = y1 + K, y3 = y2 + K;
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        int k = 0, kv = S.loopBound(K);
        for (; k < kv; k += V) {
            FloatVector a = FloatVector.fromArray(S, X, x0 + k), b = FloatVector.fromArray(S, X, x1 + k);
            FloatVector w = FloatVector.fromArray(S, Y, y0 + k);
            s00 = a.fma(w, s00); s10 = b.fma(w, s10);
            w = FloatVector.fromArray(S, Y, y1 + k);
            s01 = a.fma(w, s01); s11 = b.fma(w, s11);
            w = FloatVector.fromArray(S, Y, y2 + k);
            s02 = a.fma(w, s02); s12 = b.fma(w, s12);
            w = FloatVector.fromArray(S, Y, y3 + k);
            s03 = a.fma(w, s03); s13 = b.fma(w, s13);
        }
        float d00 = VectorMath.sum(s00), d01 = VectorMath.sum(s01);
        float d02 = VectorMath.sum(s02), d03 = VectorMath.sum(s03);
        float d10 = VectorMath.sum(s10), d11 = VectorMath.sum(s11);
        float d12 = VectorMath.sum(s12), d13 = VectorMath.sum(s13);
        for (; k < K; k++) {
            float a = X[x0 + k], b = X[x1 + k];
            float w0 = Y[y0 + k], w1 = Y[y1 + k], w2 = Y[y2 + k], w3 = Y[y3 + k];
            d00 += a * w0; d01 += a * w1; d02 += a * w2; d03 += a * w3;
            d10 += b * w0; d11 += b * w1; d12 += b * w2; d13 += b * w3;
        }
        int c1 = c0 + ldc;
        C[c0] = blend(alpha, d00, beta, C[c0]);
        C[c0 + 1] = blend(alpha, d01, beta, C[c0 + 1]);
        C[c0 + 2] = blend(alpha, d02, beta, C[c0 + 2]);
        C[c0 + 3] = blend(alpha, d03, beta, C[c0 + 3]);
        C[c1] = blend(alpha, d10, beta, C[c1]);
        C[c1 + 1] = blend(alpha, d11, beta, C[c1 + 1]);
        C[c1 + 2] = blend(alpha, d12, beta, C[c1 + 2]);
        C[c1 + 3] = blend(alpha, d13, beta, C[c1 + 3]);
    }

    /** Four dot products of one X row against four consecutive Y rows; the X vector is loaded once. */
    private static void dot4(int K, float alpha, float[] X, int xi, float[] Y, int y0, float beta, float[] C, int ci) {
        int y1 = y0 + K, y2 = y1 + K, y3 = y2 + K;
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        int k = 0, kv = S.loopBound(K);
        for (; k < kv; k += V) {
            FloatVector x = FloatVector.fromArray(S, X, xi + k);
            s0 = x.fma(FloatVector.fromArray(S, Y, y0 + k), s0);
            s1 = x.fma(FloatVector.fromArray(S, Y, y1 + k), s1);
            s2 = x.fma(FloatVector.fromArray(S, Y, y2 + k), s2);
            s3 = x.fma(FloatVector.fromArray(S, Y, y3 + k), s3);
        }
        float d0 = VectorMath.sum(s0), d1 = VectorMath.sum(s1);
        float d2 = VectorMath.sum(s2), d3 = VectorMath.sum(s3);
        for (; k < K; k++) {
            float x = X[xi + k];
            d0 += x * Y[y0 + k]; d1 += x * Y[y1 + k]; d2 += x * Y[y2 + k]; d3 += x * Y[y3 + k];
        }
        C[ci] = blend(alpha, d0, beta, C[ci]);
        C[ci + 1] = blend(alpha, d1, beta, C[ci + 1]);
        C[ci + 2] = blend(alpha, d2, beta, C[ci + 2]);
        C[ci + 3] = blend(alpha, d3, beta, C[ci + 3]);
    }

    private static float dot(int K, float[] X, int xi, float[] Y, int yi) {
        FloatVector s = FloatVector.zero(S);
        int k = 0, kv = S.loopBound(K);
        for (; k < kv; k += V) s = FloatVector.fromArray(S, X, xi + k).fma(FloatVector.fromArray(S, Y, yi + k), s);
        float d = VectorMath.sum(s);
        for (; k < K; k++) d += X[xi + k] * Y[yi + k];
        return d;
    }

    // ------------------------------------------------------------------ axpy form

    /**
     * C[i,:] = alpha * sum_k X[i,k] B[k,:] + beta * C[i,:], X: [M,K] at xOff, B: [K,N] at bOff
     * (row-major), C: [M,N]. Parallel over chunks of AXPY_COLS columns; within a chunk up to four
     * rows keep 4 x 4 vector accumulators in registers while walking down K, so each B row
     * segment is loaded once per four output rows.
     */
    static void axpyForm(int M, int N, int K, float alpha, float[] X, int xOff, float[] B, int bOff,
                         float beta, float[] C, int cOff) {
        int chunks = (N + AXPY_COLS - 1) / AXPY_COLS;
        Parallel.forRange(chunks, grain(chunks, 2L * M * K * AXPY_COLS), (c0, c1) -> {
            float[] acc = new float[4 * AXPY_COLS];
            for (int ch = c0; ch < c1; ch++) {
                int j0 = ch * AXPY_COLS, j1 = Math.min(N, j0 + AXPY_COLS);
                if (j1 - j0 < AXPY_COLS) {
                    for (int i = 0; i < M; i++) axpyTail(j0, j1, N, K, alpha, X, xOff + i * K, B, bOff, beta, C, cOff + i * N);
                    continue;
                }
                // Rows four at a time (the B strip is loaded once for all four); a group of two
                // or three repeats its last row (computed twice, stored once); a lone row alone.
                for (int i = 0; i < M; i += 4) {
                    int rows = Math.min(4, M - i);
                    if (rows == 1) {
                        axpy1x4(K, N, X, xOff + i * K, B, bOff + j0, acc);
                    } else {
                        int x0 = xOff + i * K, last = xOff + (i + rows - 1) * K;
                        axpy4x4(K, N, X, x0, Math.min(x0 + K, last), Math.min(x0 + 2 * K, last), Math.min(x0 + 3 * K, last),
                                B, bOff + j0, acc);
                    }
                    for (int r = 0; r < rows; r++) {
                        int ci = cOff + (i + r) * N + j0, t = r * AXPY_COLS;
                        for (int j = 0; j < AXPY_COLS; j++) C[ci + j] = blend(alpha, acc[t + j], beta, C[ci + j]);
                    }
                }
            }
        });
    }

    /**
     * acc[r*4V + c] = sum_k X[x_r + k] * B[b + k*N + c] for four rows x0..x3 and four vectors of
     * columns: 16 independent FMA chains, 4 loads of B + 4 broadcasts per 16 FMAs. The vectors
     * never leave this method (a vector handed to a method C2 does not inline is boxed).
     */
    private static void axpy4x4(int K, int N, float[] X, int x0, int x1, int x2, int x3, float[] B, int b, float[] acc) {
        FloatVector s00 = FloatVector.zero(S), s01 = FloatVector.zero(S), s02 = FloatVector.zero(S), s03 = FloatVector.zero(S);
        FloatVector s10 = FloatVector.zero(S), s11 = FloatVector.zero(S), s12 = FloatVector.zero(S), s13 = FloatVector.zero(S);
        FloatVector s20 = FloatVector.zero(S), s21 = FloatVector.zero(S), s22 = FloatVector.zero(S), s23 = FloatVector.zero(S);
        FloatVector s30 = FloatVector.zero(S), s31 = FloatVector.zero(S), s32 = FloatVector.zero(S), s33 = FloatVector.zero(S);
        for (int k = 0; k < K; k++) {
            int bk = b + k * N;
            FloatVector w0 = FloatVector.fromArray(S, B, bk), w1 = FloatVector.fromArray(S, B, bk + V);
            FloatVector w2 = FloatVector.fromArray(S, B, bk + 2 * V), w3 = FloatVector.fromArray(S, B, bk + 3 * V);
            FloatVector x = FloatVector.broadcast(S, X[x0 + k]);
            s00 = x.fma(w0, s00); s01 = x.fma(w1, s01); s02 = x.fma(w2, s02); s03 = x.fma(w3, s03);
            x = FloatVector.broadcast(S, X[x1 + k]);
            s10 = x.fma(w0, s10); s11 = x.fma(w1, s11); s12 = x.fma(w2, s12); s13 = x.fma(w3, s13);
            x = FloatVector.broadcast(S, X[x2 + k]);
            s20 = x.fma(w0, s20); s21 = x.fma(w1, s21); s22 = x.fma(w2, s22); s23 = x.fma(w3, s23);
            x = FloatVector.broadcast(S, X[x3 + k]);
            s30 = x.fma(w0, s30); s31 = x.fma(w1, s31); s32 = x.fma(w2, s32); s33 = x.fma(w3, s33);
        }
        int W = AXPY_COLS;
        s00.intoArray(acc, 0); s01.intoArray(acc, V); s02.intoArray(acc, 2 * V); s03.intoArray(acc, 3 * V);
        s10.intoArray(acc, W); s11.intoArray(acc, W + V); s12.intoArray(acc, W + 2 * V); s13.intoArray(acc, W + 3 * V);
        s20.intoArray(acc, 2 * W); s21.intoArray(acc, 2 * W + V); s22.intoArray(acc, 2 * W + 2 * V); s23.intoArray(acc, 2 * W + 3 * V);
        s30.intoArray(acc, 3 * W); s31.intoArray(acc, 3 * W + V); s32.intoArray(acc, 3 * W + 2 * V); s33.intoArray(acc, 3 * W + 3 * V);
    }

    /** One row of {@link #axpy4x4}: acc[0..4V) = sum_k X[xi + k] * B[b + k*N + (0..4V)]. */
    private static void axpy1x4(int K, int N, float[] X, int xi, float[] B, int b, float[] acc) {
        FloatVector s0 = FloatVector.zero(S), s1 = FloatVector.zero(S);
        FloatVector s2 = FloatVector.zero(S), s3 = FloatVector.zero(S);
        for (int k = 0; k < K; k++) {
            FloatVector x = FloatVector.broadcast(S, X[xi + k]);
            int bk = b + k * N;
            s0 = x.fma(FloatVector.fromArray(S, B, bk), s0);
            s1 = x.fma(FloatVector.fromArray(S, B, bk + V), s1);
            s2 = x.fma(FloatVector.fromArray(S, B, bk + 2 * V), s2);
            s3 = x.fma(FloatVector.fromArray(S, B, bk + 3 * V), s3);
        }
        s0.intoArray(acc, 0);
        s1.intoArray(acc, V);
        s2.intoArray(acc, 2 * V);
        s3.intoArray(acc, 3 * V);
    }

    /** The last, partial chunk [j0, j1) of one output row: vector by vector, then scalars. */
    private static void axpyTail(int j0, int j1, int N, int K, float alpha, float[] X, int xi, float[] B, int bOff,
                                 float beta, float[] C, int ci) {
        int j = j0;
        for (; j + V <= j1; j += V) {
            FloatVector s = FloatVector.zero(S);
            for (int k = 0; k < K; k++) {
                s = FloatVector.broadcast(S, X[xi + k]).fma(FloatVector.fromArray(S, B, bOff + k * N + j), s);
            }
            FloatVector v = s.mul(alpha);
            if (beta != 0f) v = FloatVector.fromArray(S, C, ci + j).fma(FloatVector.broadcast(S, beta), v);
            v.intoArray(C, ci + j);
        }
        for (; j < j1; j++) {
            float d = 0f;
            for (int k = 0; k < K; k++) d += X[xi + k] * B[bOff + k * N + j];
            C[ci + j] = blend(alpha, d, beta, C[ci + j]);
        }
    }

    /** alpha * acc + beta * c, not reading c when beta == 0 (so a NaN in C is not propagated). */
    static float blend(float alpha, float acc, float beta, float c) {
        return beta == 0f ? alpha * acc : Math.fma(beta, c, alpha * acc);
    }
}

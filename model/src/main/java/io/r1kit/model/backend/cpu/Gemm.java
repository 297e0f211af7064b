package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;

/**
 * GEMM: C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C[M,N] (see
 * {@link io.r1kit.model.backend.Backend#gemm} for layouts). The plain scalar reference stands
 * here beside the fast path, which dispatches by shape:
 * <ul>
 *   <li>few rows (decoding; M &lt;= 12 for x·W, M &lt;= 64 for x·Wᵀ), or N &lt;= 8 with A
 *       untransposed: {@link GemmSkinny}, which streams the big operand as it is stored
 *       (packing it, a transpose of all of B for x·Wᵀ, would cost more than the multiply);</li>
 *   <li>everything else: {@link GemmPacked}, cache-blocked with a 12x32 Vector API micro-kernel (6x16 with 8-lane vectors).</li>
 * </ul>
 * Edge cases, the same in fast and reference: M or N == 0 does nothing; beta == 0 overwrites C
 * without reading it (NaN in C is not propagated); K == 0 or alpha == 0 gives C = beta * C
 * without reading A or B (the BLAS convention).
 */
public final class Gemm {
    private Gemm() {}

    public static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        checkArgs("gemm", transA, transB, M, N, K, A, aOff, B, bOff, C, cOff);
        if (M == 0 || N == 0) return;
        if (K == 0 || alpha == 0f) {
            scaleC(M, N, beta, C, cOff);
            return;
        }
        if (M <= (transB ? GemmSkinny.MAX_ROWS_DOT : GemmSkinny.MAX_ROWS_AXPY)) {
            // op(A) as contiguous rows X[M,K]: A itself, or a small transposed copy.
            float[] X = A;
            int xOff = aOff;
            if (transA) {
                X = GemmSkinny.scratch(M * K);
                GemmSkinny.transposeInto(A, aOff, M, K, X);
                xOff = 0;
            }
            if (transB) GemmSkinny.dotForm(M, N, K, alpha, X, xOff, B, bOff, beta, C, cOff);
            else GemmSkinny.axpyForm(M, N, K, alpha, X, xOff, B, bOff, beta, C, cOff);
        } else if (N <= GemmSkinny.MAX && !transA) {
            // op(B) columns as contiguous rows Y[N,K]: B itself when transposed, else a small copy.
            float[] Y = B;
            int yOff = bOff;
            if (!transB) {
                Y = GemmSkinny.scratch(N * K);
                GemmSkinny.transposeInto(B, bOff, N, K, Y);
                yOff = 0;
            }
            GemmSkinny.dotForm(M, N, K, alpha, A, aOff, Y, yOff, beta, C, cOff);
        } else {
            GemmPacked.gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
        }
    }

    /** C = beta * C, or zeros when beta == 0 (not reading C). */
    private static void scaleC(int M, int N, float beta, float[] C, int cOff) {
        int n = M * N;
        if (beta == 0f) java.util.Arrays.fill(C, cOff, cOff + n, 0f);
        else if (beta != 1f) for (int i = 0; i < n; i++) C[cOff + i] *= beta;
    }

    /**
     * Plain triple loop, the control the fast kernel is tested against. Each dot product is
     * accumulated in DOUBLE precision, so the reference is (much) closer to the exact result
     * than any float kernel: test tolerances then only need to cover the fast kernel's error.
     * beta == 0 overwrites C without reading it (NaN/garbage in C is not propagated).
     */
    public static void gemmReference(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        checkArgs("gemmReference", transA, transB, M, N, K, A, aOff, B, bOff, C, cOff);
        if (M == 0 || N == 0) return;
        if (K == 0 || alpha == 0f) {     // BLAS convention: A and B are not read
            scaleC(M, N, beta, C, cOff);
            return;
        }
        for (int i = 0; i < M; i++) {
            for (int j = 0; j < N; j++) {
                double acc = 0;
                for (int p = 0; p < K; p++) {
                    float a = transA ? A[aOff + p * M + i] : A[aOff + i * K + p];   // A: [K,M] or [M,K]
                    float b = transB ? B[bOff + j * K + p] : B[bOff + p * N + j];   // B: [N,K] or [K,N]
                    acc += (double) a * b;
                }
                int c = cOff + i * N + j;
                float ab = (float) (alpha * acc);
                C[c] = beta == 0f ? ab : ab + beta * C[c];
            }
        }
    }

    /**
     * Batched GEMM. Three strategies, by what keeps both cores busy with the least overhead:
     * <ul>
     *   <li>one shared B (strideB == 0) with A and C packed back to back and A untransposed is
     *       a single GEMM of batch*M rows (e.g. the same weight for every sequence);</li>
     *   <li>enough entries to share out evenly: parallel across the batch, each GEMM on one
     *       thread (the nested parallel loops run inline);</li>
     *   <li>otherwise one entry after another, each parallel inside. This includes C entries
     *       that overlap (strideC == 0 with beta == 1 sums the batch into one C), which then
     *       update C in batch order exactly as the reference does.</li>
     * </ul>
     */
    public static void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) {
        checkBatchArgs("gemmBatched", transA, transB, batch, M, N, K, A, aOff, strideA, B, bOff, strideB, C, cOff, strideC);
        if (batch == 0 || M == 0 || N == 0) return;
        long rows = (long) batch * M;
        if (batch > 1 && strideB == 0 && !transA && strideA == M * K && strideC == M * N && rows <= Integer.MAX_VALUE) {
            gemm(false, transB, (int) rows, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
            return;
        }
        int threads = Parallel.threads();
        boolean disjointC = strideC >= M * N;   // else entries update the same C: keep their order
        if (disjointC && threads > 1 && batch > 1 && (batch % threads == 0 || batch >= 4 * threads)) {
            Parallel.forRange(batch, 1, (b0, b1) -> {
                for (int i = b0; i < b1; i++) {
                    gemm(transA, transB, M, N, K, alpha, A, aOff + i * strideA, B, bOff + i * strideB,
                            beta, C, cOff + i * strideC);
                }
            });
        } else {
            for (int i = 0; i < batch; i++) {
                gemm(transA, transB, M, N, K, alpha, A, aOff + i * strideA, B, bOff + i * strideB,
                        beta, C, cOff + i * strideC);
            }
        }
    }

    /** {@code batch} calls of {@link #gemmReference}; operand i starts at off + i * stride. */
    public static void gemmBatchedReference(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) {
        checkBatchArgs("gemmBatchedReference", transA, transB, batch, M, N, K, A, aOff, strideA, B, bOff, strideB, C, cOff, strideC);
        for (int i = 0; i < batch; i++) {
            gemmReference(transA, transB, M, N, K, alpha, A, aOff + i * strideA, B, bOff + i * strideB,
                    beta, C, cOff + i * strideC);
        }
    }

    // ------------------------------------------------------------------ argument checks

    /** Throws a clear error when a dimension is negative or an operand does not fit its array. */
    static void checkArgs(String op, boolean transA, boolean transB, int M, int N, int K,
                          float[] A, int aOff, float[] B, int bOff, float[] C, int cOff) {
        if (M < 0 || N < 0 || K < 0) {
            throw new IllegalArgumentException(op + ": negative dimension M=" + M + " N=" + N + " K=" + K);
        }
        KernelChecks.fits(op, "operand A", A, aOff, (long) M * K, () -> transA ? "[K=" + K + ",M=" + M + "]" : "[M=" + M + ",K=" + K + "]");
        KernelChecks.fits(op, "operand B", B, bOff, (long) K * N, () -> transB ? "[N=" + N + ",K=" + K + "]" : "[K=" + K + ",N=" + N + "]");
        KernelChecks.fits(op, "operand C", C, cOff, (long) M * N, () -> "[M=" + M + ",N=" + N + "]");
    }

    static void checkBatchArgs(String op, boolean transA, boolean transB, int batch, int M, int N, int K,
                               float[] A, int aOff, int strideA, float[] B, int bOff, int strideB,
                               float[] C, int cOff, int strideC) {
        if (batch < 0 || strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException(op + ": negative batch or stride (batch=" + batch
                    + " strideA=" + strideA + " strideB=" + strideB + " strideC=" + strideC + ")");
        }
        if (batch == 0) return;
        long last = batch - 1L;
        checkArgs(op, transA, transB, M, N, K, A, aOff, B, bOff, C, cOff);
        KernelChecks.fits(op, "operand A (last batch entry)", A, aOff + last * strideA, (long) M * K, () -> "stride " + strideA);
        KernelChecks.fits(op, "operand B (last batch entry)", B, bOff + last * strideB, (long) K * N, () -> "stride " + strideB);
        KernelChecks.fits(op, "operand C (last batch entry)", C, cOff + last * strideC, (long) M * N, () -> "stride " + strideC);
    }
}

package io.r1kit.model.fp8;

import io.r1kit.model.backend.Backend;
import java.util.Arrays;

/**
 * The three GEMMs of a linear layer {@code y = x · wᵀ} (x [M, K], w [N, K]) trained in FP8 as
 * DeepSeek-V3 does, emulated exactly on the CPU: every operand is quantised to FP8 with its
 * fine-grained scales ({@link Fp8Recipe}), dequantised to FP32, and multiplied in FP32 one
 * 128-wide chunk of the inner dimension at a time, each chunk's product added into the FP32
 * result (V3 promotes the tensor cores' partial sums to FP32 registers every 128 products).
 *
 * <ul>
 *   <li>forward: {@code y = Q(x; 1×128 along K) · Q(w; 128×128)ᵀ}, chunks over K;</li>
 *   <li>input gradient: {@code dx += Q(dy; 1×128 along N) · Q(w; 128×128)}, chunks over N;</li>
 *   <li>weight gradient: {@code dw += Q(dy; 128×1 along M)ᵀ · Q(x; 128×1 along M)}, chunks over M,
 *       where x comes from the FP8 copy saved in forward, re-quantised along M as V3's backward
 *       re-tiles its saved 1×128 activations into 128×1.</li>
 * </ul>
 * The quantised operands are laid out chunk by chunk ({@code [chunk][rows][≤128]}) so each
 * chunk's GEMM reads contiguous memory.
 */
public final class Fp8Gemm {
    private Fp8Gemm() {}

    /** {@code y[M, N] = x · wᵀ} from quantised x [M, K] and w [N, K] (y overwritten). */
    public static void forward(Backend be, Fp8Blocks qx, Fp8Blocks qw, float[] y) {
        int M = qx.rows(), K = qx.cols(), N = qw.rows();
        if (qw.cols() != K) throw new IllegalArgumentException("fp8 linear: x has K=" + K + ", w [" + N + ", " + qw.cols() + "]");
        float[] xc = dequantizeColumnChunks(qx), wc = dequantizeColumnChunks(qw);
        int C = Fp8Recipe.CHUNK;
        if (K == 0) Arrays.fill(y, 0, M * N, 0f);
        for (int k0 = 0, c = 0; k0 < K; k0 += C, c++) {
            int kc = Math.min(C, K - k0);
            be.gemm(false, true, M, N, kc, 1f, xc, M * k0, wc, N * k0, c == 0 ? 0f : 1f, y, 0);
        }
    }

    /** {@code dx[M, K] += dy · w} from quantised dy [M, N] (1×128 along N) and w [N, K]. */
    public static void inputGrad(Backend be, Fp8Blocks qdy, Fp8Blocks qw, float[] dx) {
        int M = qdy.rows(), N = qdy.cols(), K = qw.cols();
        if (qw.rows() != N) throw new IllegalArgumentException("fp8 linear backward: dy has N=" + N + ", w [" + qw.rows() + ", " + K + "]");
        float[] dyc = dequantizeColumnChunks(qdy), wd = qw.dequantize();
        int C = Fp8Recipe.CHUNK;
        for (int n0 = 0; n0 < N; n0 += C) {
            int nc = Math.min(C, N - n0);
            be.gemm(false, false, M, K, nc, 1f, dyc, M * n0, wd, n0 * K, 1f, dx, 0);
        }
    }

    /** {@code dw[N, K] += dyᵀ · x} from quantised dy [M, N] and x [M, K], both tiled along M. */
    public static void weightGrad(Backend be, Fp8Blocks qdy, Fp8Blocks qx, float[] dw) {
        int M = qdy.rows(), N = qdy.cols(), K = qx.cols();
        if (qx.rows() != M) throw new IllegalArgumentException("fp8 linear backward: dy has M=" + M + ", x has " + qx.rows());
        float[] dyd = qdy.dequantize(), xd = qx.dequantize();
        int C = Fp8Recipe.CHUNK;
        for (int m0 = 0; m0 < M; m0 += C) {
            int mc = Math.min(C, M - m0);
            be.gemm(true, false, N, K, mc, 1f, dyd, m0 * N, xd, m0 * K, 1f, dw, 0);
        }
    }

    /**
     * The dequantised matrix laid out by 128-column chunks: chunk c (columns [128c, 128c + w)) is a
     * contiguous row-major {@code [rows, w]} block starting at {@code rows * 128c}.
     */
    static float[] dequantizeColumnChunks(Fp8Blocks q) {
        int rows = q.rows(), cols = q.cols(), C = Fp8Recipe.CHUNK;
        float[] out = new float[rows * cols];
        byte[] codes = q.codes();
        float[] scales = q.scaleInv();
        int cb = q.colBlocks();
        for (int c0 = 0; c0 < cols; c0 += C) {
            int w = Math.min(C, cols - c0);
            int base = rows * c0;
            for (int r = 0; r < rows; r++) {
                int rowScales = (r / q.blockRows()) * cb;
                // a chunk row may span several scale blocks when blockCols < 128 (never for V3's shapes)
                for (int j = 0; j < w; ) {
                    int col = c0 + j;
                    int end = Math.min(w, (col / q.blockCols() + 1) * q.blockCols() - c0);
                    Fp8Arrays.decode(q.format(), codes, r * cols + col, out, base + r * w + j, end - j,
                            scales[rowScales + col / q.blockCols()]);
                    j = end;
                }
            }
        }
        return out;
    }
}

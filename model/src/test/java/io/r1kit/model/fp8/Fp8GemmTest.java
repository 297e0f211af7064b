package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The FP8 linear layer's three GEMMs against an independent reference: operands quantised and
 * dequantised element by element here (block absmax, x / s through {@link Fp8Format}'s scalar
 * codec, decode · s), then multiplied with the host backend's FP32 GEMM one 128-wide chunk of the
 * inner dimension at a time. Equal bits are required; against plain FP32 the stated tolerances.
 */
class Fp8GemmTest {
    static final int M = 37, K = 200, N = 130; // two inner chunks, the second partial; partial weight blocks

    /** Quantise-dequantise with one scale per br × bc block, written independently of Fp8Blocks. */
    static float[] qdq(float[] x, int rows, int cols, int br, int bc) {
        float[] out = new float[x.length];
        for (int r0 = 0; r0 < rows; r0 += br) {
            for (int c0 = 0; c0 < cols; c0 += bc) {
                float amax = 0;
                for (int r = r0; r < Math.min(rows, r0 + br); r++)
                    for (int c = c0; c < Math.min(cols, c0 + bc); c++) amax = Math.max(amax, Math.abs(x[r * cols + c]));
                float s = amax > 0 ? amax / 448f : 1f;
                for (int r = r0; r < Math.min(rows, r0 + br); r++)
                    for (int c = c0; c < Math.min(cols, c0 + bc); c++)
                        out[r * cols + c] = Fp8Format.E4M3.decode(Fp8Format.E4M3.encode(x[r * cols + c] / s)) * s;
            }
        }
        return out;
    }

    /** Columns [c0, c0 + w) of a row-major [rows, cols] matrix as a contiguous [rows, w] block. */
    static float[] columns(float[] x, int rows, int cols, int c0, int w) {
        float[] out = new float[rows * w];
        for (int r = 0; r < rows; r++) System.arraycopy(x, r * cols + c0, out, r * w, w);
        return out;
    }

    record Ref(float[] y, float[] dx, float[] dw) {}

    static Ref reference(float[] x, float[] w, float[] dy, boolean perTensor) {
        Backend be = Backends.current();
        float[] xq = perTensor ? qdq(x, M, K, M, K) : qdq(x, M, K, 1, 128);
        float[] wq = perTensor ? qdq(w, N, K, N, K) : qdq(w, N, K, 128, 128);
        float[] y = new float[M * N];
        for (int k0 = 0; k0 < K; k0 += 128) {
            int kc = Math.min(128, K - k0);
            be.gemm(false, true, M, N, kc, 1f, columns(xq, M, K, k0, kc), 0, columns(wq, N, K, k0, kc), 0, k0 == 0 ? 0f : 1f, y, 0);
        }
        float[] dyRow = perTensor ? qdq(dy, M, N, M, N) : qdq(dy, M, N, 1, 128);
        float[] dx = new float[M * K];
        for (int n0 = 0; n0 < N; n0 += 128) {
            int nc = Math.min(128, N - n0);
            float[] wRows = new float[nc * K];
            System.arraycopy(wq, n0 * K, wRows, 0, nc * K);
            be.gemm(false, false, M, K, nc, 1f, columns(dyRow, M, N, n0, nc), 0, wRows, 0, 1f, dx, 0);
        }
        float[] dyCol = perTensor ? qdq(dy, M, N, M, N) : qdq(dy, M, N, 128, 1);
        float[] xCol = perTensor ? qdq(xq, M, K, M, K) : qdq(xq, M, K, 128, 1);
        float[] dw = new float[N * K];
        for (int m0 = 0; m0 < M; m0 += 128) {
            int mc = Math.min(128, M - m0);
            be.gemm(true, false, N, K, mc, 1f, dyCol, m0 * N, xCol, m0 * K, 1f, dw, 0);
        }
        return new Ref(y, dx, dw);
    }

    static float[] gaussian(SplittableRandom r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * std);
        return x;
    }

    @Test
    void linearForwardAndBothBackwardGemmsEqualTheQuantiseDequantiseReferenceBitForBit() {
        for (boolean perTensor : new boolean[] {false, true}) {
            SplittableRandom r = new SplittableRandom(perTensor ? 2 : 1);
            float[] x = gaussian(r, M * K, 1.0), w = gaussian(r, N * K, 0.05), dy = gaussian(r, M * N, 1e-3);
            x[3 * K + 150] = 40f; // an outlier in one activation tile
            Ref ref = reference(x, w, dy, perTensor);

            Tensor xt = Tensor.of(x, M, K).requiresGrad(true);
            Parameter wt = new Parameter("w", w.clone(), N, K);
            F.resetFp8SavedBytes();
            Tensor y = F.linearFp8(xt, wt, perTensor ? Fp8Recipe.PER_TENSOR : Fp8Recipe.FINE_GRAINED);
            long saved = F.fp8SavedBytes();
            assertArrayEquals(ref.y, y.data(), "forward, perTensor=" + perTensor);
            y.backward(Tensor.of(dy, M, N));
            assertArrayEquals(ref.dx, xt.gradData(), "input gradient, perTensor=" + perTensor);
            assertArrayEquals(ref.dw, wt.gradData(), "weight gradient, perTensor=" + perTensor);

            // Saved for backward: one byte per input and weight element plus their float scales.
            long scales = perTensor ? 2 : (long) M * 2 + 2 * 2;
            assertEquals((long) M * K + (long) N * K + 4 * scales, saved);
        }
    }

    /** Relative Frobenius error over the output rows whose input row has no outlier. */
    static double relErr(float[] got, double[] exact, boolean[] skipRow) {
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            if (skipRow[i / N]) continue;
            num += (got[i] - exact[i]) * (got[i] - exact[i]);
            den += exact[i] * exact[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void fineGrainedFp8IsCloseToFp32AndBeatsPerTensorWithOutliers() {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = gaussian(r, M * K, 1.0), w = gaussian(r, N * K, 0.05);
        boolean[] outlierRow = new boolean[M];
        for (int i = 0; i < 3; i++) { // rare activation outliers, 1e5 times the typical value
            int k = r.nextInt(x.length);
            x[k] = 1e5f;
            outlierRow[k / K] = true;
        }
        double[] exact = new double[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double) x[m * K + k] * w[n * K + k];
                exact[m * N + n] = s;
            }
        float[] fine = F.linearFp8(Tensor.of(x, M, K), Tensor.of(w, N, K), Fp8Recipe.FINE_GRAINED).data();
        float[] coarse = F.linearFp8(Tensor.of(x, M, K), Tensor.of(w, N, K), Fp8Recipe.PER_TENSOR).data();
        double eFine = relErr(fine, exact, outlierRow), eCoarse = relErr(coarse, exact, outlierRow);
        // E4M3 rounds each operand by up to 2^-4 relative (~1.8% rms for Gaussian values); the sum over K
        // averages the independent errors, so ~3% relative error on the outputs is the expected size.
        assertTrue(eFine < 0.05, "fine-grained fp8 vs exact: " + eFine);
        // One scale for the tensor sends the ordinary activations (1e-5 of the max) into E4M3's subnormals.
        assertTrue(eCoarse > 2 * eFine, "per-tensor " + eCoarse + " vs fine-grained " + eFine);
    }

    @Test
    void columnTileQuantisationEqualsTheBlockByBlockReference() {
        SplittableRandom r = new SplittableRandom(6);
        for (int[] s : new int[][] {{300, 7}, {128, 3}, {5, 9}}) {
            float[] x = gaussian(r, s[0] * s[1], 1.0);
            x[0] = Float.NaN;
            assertEquals(Fp8Blocks.quantizeScalar(x, s[0], s[1], 128, 1, Fp8Format.E4M3),
                    Fp8Blocks.quantize(x, s[0], s[1], 128, 1, Fp8Format.E4M3));
        }
    }
}

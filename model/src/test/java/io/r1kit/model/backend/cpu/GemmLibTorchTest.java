package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Gemm#gemm} and {@link Gemm#gemmReference} against libtorch's {@code matmul}
 * (NDArray.matMul through DJL) on a few shapes and all four layouts, the transposes done by
 * libtorch itself.
 *
 * <p>Tolerance: libtorch and our fast kernel both sum K float products in their own order; each
 * is within K * eps * sum_p |a_ip||b_pj| of the exact value (Higham §3.1), so they agree within
 * twice that, plus a few roundings: 2 (K + 4) eps * sum_p |a_ip||b_pj| per element.
 */
class GemmLibTorchTest {
    static final float EPS = Math.ulp(1f);

    @Test
    void matchesLibTorchMatMul() {
        int[][] shapes = {{1, 129, 33}, {7, 33, 129}, {65, 47, 300}, {129, 200, 257}, {300, 5, 64}};
        Random r = new Random(42);
        try (NDManager nd = NDManager.newBaseManager("PyTorch")) {
            for (int[] s : shapes) {
                int M = s[0], N = s[1], K = s[2];
                for (int layout = 0; layout < 4; layout++) {
                    boolean tA = (layout & 1) != 0, tB = (layout & 2) != 0;
                    float[] A = GemmTest.random(r, M * K), B = GemmTest.random(r, K * N);
                    try (NDManager sub = nd.newSubManager()) {
                        NDArray a = sub.create(A, tA ? new Shape(K, M) : new Shape(M, K));
                        NDArray b = sub.create(B, tB ? new Shape(N, K) : new Shape(K, N));
                        float[] torch = (tA ? a.transpose() : a).matMul(tB ? b.transpose() : b).toFloatArray();
                        float[] fast = new float[M * N], ref = new float[M * N], scale = new float[M * N];
                        Gemm.gemm(tA, tB, M, N, K, 1f, A, 0, B, 0, 0f, fast, 0);
                        Gemm.gemmReference(tA, tB, M, N, K, 1f, A, 0, B, 0, 0f, ref, 0);
                        Gemm.gemmReference(tA, tB, M, N, K, 1f, GemmTest.abs(A), 0, GemmTest.abs(B), 0, 0f, scale, 0);
                        assertEquals(M * N, torch.length);
                        for (int i = 0; i < M * N; i++) {
                            double bound = 2.0 * (K + 4) * EPS * scale[i] + Float.MIN_NORMAL;
                            String where = "M=" + M + " N=" + N + " K=" + K + " tA=" + tA + " tB=" + tB + " at " + i;
                            assertTrue(Math.abs(fast[i] - torch[i]) <= bound,
                                    "fast vs libtorch " + where + ": " + fast[i] + " vs " + torch[i] + " bound " + bound);
                            assertTrue(Math.abs(ref[i] - torch[i]) <= bound,
                                    "reference vs libtorch " + where + ": " + ref[i] + " vs " + torch[i] + " bound " + bound);
                        }
                    }
                }
            }
        }
    }
}

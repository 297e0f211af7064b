package io.r1kit.model.ops;

import ai.djl.ndarray.NDArray;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.testing.TorchRef;
import io.r1kit.model.testing.TorchRef.Tol;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.r1kit.model.testing.TorchRef.randn;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** matmul / linear forward and gradients vs libtorch, every transpose combination, batched and broadcast. */
class MatMulTest {
    /**
     * Dot products of up to K = 129 standard-normal terms (|sum| ~ 11): torch and our GEMMs
     * accumulate float32 in different orders, error ~ sqrt(K)·eps·sum|a·b| ≈ 1e-5; gradients sum
     * over up to B·T·N terms as well.
     */
    static final Tol GEMM = new Tol(1e-4, 1e-4, "float32 dot products of <= 129 terms, different summation order");

    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    private static NDArray t(NDArray a) {
        int r = a.getShape().dimension();
        return a.swapAxes(r - 2, r - 1);
    }

    @Test
    void linearHotPathFoldsBatchIntoOneGemm() {
        // x [B, T, K] · Wᵀ, W [N, K], awkward sizes
        for (int[] s : new int[][] {{2, 7, 33, 5}, {1, 1, 129, 3}, {3, 5, 1, 7}}) {
            Tensor x = randn(1, s[0], s[1], s[2]), w = randn(2, s[3], s[2]), bias = randn(3, s[3]);
            torch.checkOp("linear " + java.util.Arrays.toString(s), GEMM, List.of(x, w),
                    in -> F.linear(in.get(0), in.get(1)), in -> in.get(0).matMul(t(in.get(1))));
            torch.checkOp("linear+bias", GEMM, List.of(x, w, bias), in -> F.linear(in.get(0), in.get(1), in.get(2)),
                    in -> in.get(0).matMul(t(in.get(1))).add(in.get(2)));
        }
        Tensor v = randn(4, 9), w = randn(5, 4, 9);
        torch.checkOp("linear 1-D", GEMM, List.of(v, w), in -> F.linear(in.get(0), in.get(1)),
                in -> in.get(1).matMul(in.get(0).reshape(9, 1)).reshape(4));
    }

    @Test
    void allTransposeCombinations2D() {
        int M = 7, K = 33, N = 5;
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true}) {
                Tensor a = tA ? randn(6, K, M) : randn(6, M, K);
                Tensor b = tB ? randn(7, N, K) : randn(7, K, N);
                torch.checkOp("matmul tA=" + tA + " tB=" + tB, GEMM, List.of(a, b),
                        in -> F.matmul(in.get(0), in.get(1), tA, tB),
                        in -> (tA ? t(in.get(0)) : in.get(0)).matMul(tB ? t(in.get(1)) : in.get(1)));
            }
    }

    @Test
    void batchedAndBroadcastTransposeCombinations() {
        int B = 3, M = 4, K = 9, N = 6;
        for (boolean tA : new boolean[] {false, true})
            for (boolean tB : new boolean[] {false, true}) {
                Tensor a = tA ? randn(8, 2, B, K, M) : randn(8, 2, B, M, K);
                Tensor b = tB ? randn(9, 2, B, N, K) : randn(9, 2, B, K, N);
                Tensor b2 = tB ? randn(10, N, K) : randn(10, K, N);
                Tensor a2 = tA ? randn(11, K, M) : randn(11, M, K);
                String tag = " tA=" + tA + " tB=" + tB;
                torch.checkOp("batched" + tag, GEMM, List.of(a, b), in -> F.matmul(in.get(0), in.get(1), tA, tB),
                        in -> (tA ? t(in.get(0)) : in.get(0)).matMul(tB ? t(in.get(1)) : in.get(1)));
                torch.checkOp("2-D b broadcast" + tag, GEMM, List.of(a, b2), in -> F.matmul(in.get(0), in.get(1), tA, tB),
                        in -> (tA ? t(in.get(0)) : in.get(0)).matMul(tB ? t(in.get(1)) : in.get(1)));
                torch.checkOp("2-D a broadcast" + tag, GEMM, List.of(a2, b), in -> F.matmul(in.get(0), in.get(1), tA, tB),
                        in -> (tA ? t(in.get(0)) : in.get(0)).matMul(tB ? t(in.get(1)) : in.get(1)));
            }
    }

    /** K = 257 terms of N(0,1)·N(0,1): float32 order differences grow ~sqrt(K); values ~16. */
    static final Tol GEMM_LARGE = new Tol(3e-4, 2e-4, "float32 dot products of 257 terms (and grads over 130 rows), order differs");

    @Test
    void largerAwkwardShapesReachTheBlockedKernels() {
        // M = B·T = 130, K = 257, N = 67: past any register/cache block size, none a multiple of the vector length
        Tensor x = randn(20, 2, 65, 257), w = randn(21, 67, 257);
        torch.checkOp("linear 130x257x67", GEMM_LARGE, List.of(x, w), in -> F.linear(in.get(0), in.get(1)),
                in -> in.get(0).matMul(t(in.get(1))));
        Tensor a = randn(22, 3, 33, 129), b = randn(23, 3, 129, 65);
        torch.checkOp("batched 3x33x129x65", GEMM_LARGE, List.of(a, b), in -> F.matmul(in.get(0), in.get(1)),
                in -> in.get(0).matMul(in.get(1)));
    }

    @Test
    void gradientOnlyForOperandsThatRequireIt() {
        Tensor x = randn(12, 2, 3, 4), w = randn(13, 5, 4);
        torch.checkOp("frozen weight", GEMM, List.of(x, w), new boolean[] {true, false},
                in -> F.linear(in.get(0), in.get(1)), in -> in.get(0).matMul(t(in.get(1))));
        torch.checkOp("frozen input", GEMM, List.of(x, w), new boolean[] {false, true},
                in -> F.linear(in.get(0), in.get(1)), in -> in.get(0).matMul(t(in.get(1))));
    }

    @Test
    void mismatchedInnerDimsNameShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> F.linear(Tensor.zeros(2, 3, 4), Tensor.zeros(5, 6)));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[5, 6]"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> F.matmul(Tensor.zeros(2, 3, 4), Tensor.zeros(3, 4, 5)));
        assertThrows(IllegalArgumentException.class, () -> F.matmul(Tensor.zeros(4), Tensor.zeros(4, 5)));
    }
}

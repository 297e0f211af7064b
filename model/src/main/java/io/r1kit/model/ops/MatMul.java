package io.r1kit.model.ops;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Shape;
import io.r1kit.model.tensor.Tensor;

import java.util.Arrays;

/**
 * Matrix product C = op(A) · op(B) over the last two dims, op = optional transpose of the
 * STORED operand (no copy is made; the GEMM reads it transposed).
 * <ul>
 * <li>A [..., M, K] and a 2-D B: A's leading dims are folded into M and the whole product is ONE
 *     GEMM (the linear-layer hot path: x[B,T,K] · Wᵀ[N,K] → [B,T,N] is gemm with M = B·T).
 *     With transA the fold is impossible and B is broadcast with a batch stride of 0.</li>
 * <li>A and B with the same leading (batch) dims, or a 2-D A against a batched B: one batched
 *     GEMM.</li>
 * </ul>
 * Backward is GEMMs too (beta = 1, so they accumulate into the gradients):
 * dA = dC·op(B)ᵀ, dB = op(A)ᵀ·dC, written in the operands' stored layouts, on the operands'
 * backend (host or device). On a device, an operand stored in bf16 (mixed precision: a parameter reading its bf16 copy, an
 * activation stored with {@code Tensor.storeAsBf16}) makes forward and backward bf16 GEMMs
 * ({@link Bf16Gemms}); with only F32 operands nothing changes.
 */
final class MatMul {
    private MatMul() {}

    static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        int[] as = a.shape(), bs = b.shape();
        if (as.length < 2 || bs.length < 2)
            throw new IllegalArgumentException("matmul: both operands need rank >= 2, got " + Shape.str(as) + " and " + Shape.str(bs));
        int ra = as.length, rb = bs.length;
        int M = transA ? as[ra - 1] : as[ra - 2];
        int K = transA ? as[ra - 2] : as[ra - 1];
        int Kb = transB ? bs[rb - 1] : bs[rb - 2];
        int N = transB ? bs[rb - 2] : bs[rb - 1];
        if (K != Kb)
            throw new IllegalArgumentException("matmul: inner dims differ: a " + Shape.str(as) + (transA ? "ᵀ" : "")
                    + " has K=" + K + ", b " + Shape.str(bs) + (transB ? "ᵀ" : "") + " has K=" + Kb);
        int[] batchA = Arrays.copyOf(as, ra - 2), batchB = Arrays.copyOf(bs, rb - 2);
        int[] batchShape;
        if (rb == 2) batchShape = batchA;
        else if (ra == 2) batchShape = batchB;
        else if (Arrays.equals(batchA, batchB)) batchShape = batchA;
        else throw new IllegalArgumentException("matmul: batch dims must match (or one operand be 2-D): a "
                    + Shape.str(as) + " vs b " + Shape.str(bs));
        int batch = Shape.numel(batchShape);
        int[] outShape = Arrays.copyOf(batchShape, batchShape.length + 2);
        outShape[batchShape.length] = M;
        outShape[batchShape.length + 1] = N;
        DeviceBackend dev = OnDevice.backendOf("matmul", a, b);
        Geometry g = new Geometry(transA, transB, batch, M, N, K, ra == 2 ? 0 : M * K, rb == 2 ? 0 : K * N);
        Tensor out = Tensor.zerosOn(dev, outShape);
        DeviceArray A = operand(a), B = operand(b);
        if (!mixed(A, B)) g.forward(device(dev), A, B, out.deviceArray("matmul"));
        else try (Bf16Gemms g16 = new Bf16Gemms(dev)) {
            g.forward(g16, A, B, out.deviceArray("matmul"));
        }
        if (Grad.needsGrad(a, b)) Grad.attach(out, new MatMulNode(a, b, g));
        return out;
    }

    /**
     * The device array a GEMM reads for t: a parameter's bf16 copy when it reads that copy
     * (mixed precision), else t's own storage, F32 or BF16 (an activation saved with storeAsBf16).
     */
    private static DeviceArray operand(Tensor t) {
        if (t instanceof Parameter p && p.readsBf16Copy()) return p.bf16Copy().array();
        return t.array();
    }

    /** Any BF16 operand makes the product a bf16 GEMM (all operands bf16, fp32 accumulation); all-F32 stays as before. */
    private static boolean mixed(DeviceArray A, DeviceArray B) {
        return A.type() == ElementType.BF16 || B.type() == ElementType.BF16;
    }

    /** The two GEMM entry points: a backend's fp32 GEMMs, or its bf16 GEMMs ({@link Bf16Gemms}). */
    interface Gemms<T> {
        void gemm(boolean tA, boolean tB, int M, int N, int K, float alpha, T A, int aOff, T B, int bOff, float beta, T C, int cOff);

        void gemmBatched(boolean tA, boolean tB, int batch, int M, int N, int K, float alpha, T A, int aOff, int sA,
                         T B, int bOff, int sB, float beta, T C, int cOff, int sC);
    }

    private static Gemms<DeviceArray> device(DeviceBackend d) {
        return new Gemms<>() {
            @Override public void gemm(boolean tA, boolean tB, int M, int N, int K, float alpha, DeviceArray A, int aOff,
                                       DeviceArray B, int bOff, float beta, DeviceArray C, int cOff) {
                d.gemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
            }

            @Override public void gemmBatched(boolean tA, boolean tB, int batch, int M, int N, int K, float alpha, DeviceArray A,
                                              int aOff, int sA, DeviceArray B, int bOff, int sB, float beta, DeviceArray C,
                                              int cOff, int sC) {
                d.gemmBatched(tA, tB, batch, M, N, K, alpha, A, aOff, sA, B, bOff, sB, beta, C, cOff, sC);
            }
        };
    }

    /** Sizes and strides of one (possibly batched, possibly broadcast) product. */
    private record Geometry(boolean transA, boolean transB, int batch, int M, int N, int K, int strideA, int strideB) {
        /** True when B is shared by all batches and A's batches are consecutive row blocks: one big GEMM. */
        boolean foldable() {
            return strideB == 0 && !transA && strideA != 0 || batch == 1;
        }

        <T> void forward(Gemms<T> be, T A, T B, T C) {
            if (foldable()) be.gemm(transA, transB, batch * M, N, K, 1f, A, 0, B, 0, 0f, C, 0);
            else be.gemmBatched(transA, transB, batch, M, N, K, 1f, A, 0, strideA, B, 0, strideB, 0f, C, 0, M * N);
        }
    }

    private static final class MatMulNode extends OnDevice.DeviceNode {
        private final Geometry g;

        MatMulNode(Tensor a, Tensor b, Geometry g) {
            super("matmul", a, b);
            this.g = g;
        }

        @Override
        void backwardOn(DeviceArray dC) {
            Tensor a = input(0), b = input(1);
            DeviceArray A = operand(a), B = operand(b);
            DeviceArray dA = a.requiresGrad() ? a.deviceGradBuffer() : null, dB = b.requiresGrad() ? b.deviceGradBuffer() : null;
            if (!mixed(A, B)) backwardWith(device(a.backend()), dC, A, B, dA, dB);
            else try (Bf16Gemms g16 = new Bf16Gemms(a.backend())) {   // dC is cast to bf16 once for both products
                backwardWith(g16, dC, A, B, dA, dB);
            }
        }

        /** dA = dC·op(B)ᵀ and dB = op(A)ᵀ·dC (null = not needed), accumulated (beta = 1) in the stored layouts. */
        private <T> void backwardWith(Gemms<T> be, T dC, T A, T B, T dA, T dB) {
            boolean tA = g.transA, tB = g.transB;
            int M = g.M, N = g.N, K = g.K;
            if (g.foldable()) {
                int Mt = g.batch * M;   // batch folded into rows (batch == 1 or B broadcast, A not transposed)
                if (dA != null) {
                    if (!tA) be.gemm(false, !tB, Mt, K, N, 1f, dC, 0, B, 0, 1f, dA, 0);
                    else be.gemm(tB, true, K, Mt, N, 1f, B, 0, dC, 0, 1f, dA, 0);
                }
                if (dB != null) {
                    if (!tB) be.gemm(!tA, false, K, N, Mt, 1f, A, 0, dC, 0, 1f, dB, 0);
                    else be.gemm(true, tA, N, K, Mt, 1f, dC, 0, A, 0, 1f, dB, 0);
                }
                return;
            }
            int sA = g.strideA, sB = g.strideB, sC = M * N, batch = g.batch;
            if (dA != null) {
                if (sA != 0) {
                    if (!tA) be.gemmBatched(false, !tB, batch, M, K, N, 1f, dC, 0, sC, B, 0, sB, 1f, dA, 0, sA);
                    else be.gemmBatched(tB, true, batch, K, M, N, 1f, B, 0, sB, dC, 0, sC, 1f, dA, 0, sA);
                } else {   // A broadcast over the batch: its gradient sums every batch's contribution
                    for (int i = 0; i < batch; i++) {
                        if (!tA) be.gemm(false, !tB, M, K, N, 1f, dC, i * sC, B, i * sB, 1f, dA, 0);
                        else be.gemm(tB, true, K, M, N, 1f, B, i * sB, dC, i * sC, 1f, dA, 0);
                    }
                }
            }
            if (dB != null) {
                if (sB != 0) {
                    if (!tB) be.gemmBatched(!tA, false, batch, K, N, M, 1f, A, 0, sA, dC, 0, sC, 1f, dB, 0, sB);
                    else be.gemmBatched(true, tA, batch, N, K, M, 1f, dC, 0, sC, A, 0, sA, 1f, dB, 0, sB);
                } else {
                    for (int i = 0; i < batch; i++) {
                        if (!tB) be.gemm(!tA, false, K, N, M, 1f, A, i * sA, dC, i * sC, 1f, dB, 0);
                        else be.gemm(true, tA, N, K, M, 1f, dC, i * sC, A, i * sA, 1f, dB, 0);
                    }
                }
            }
        }
    }
}

package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class Gemm {
    private Gemm() {}

    public static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        throw new UnsupportedOperationException("not implemented yet: Gemm.gemm");
    }

    public static void gemmReference(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        throw new UnsupportedOperationException("not implemented yet: Gemm.gemmReference");
    }

    public static void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) {
        throw new UnsupportedOperationException("not implemented yet: Gemm.gemmBatched");
    }

    public static void gemmBatchedReference(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) {
        throw new UnsupportedOperationException("not implemented yet: Gemm.gemmBatchedReference");
    }

}

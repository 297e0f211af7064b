package io.r1kit.model.backend;

import io.r1kit.model.backend.cpu.*;

/** Plain scalar reference kernels: the naive control every fast kernel is tested against. Slow on purpose; never used for training. */
public final class ReferenceBackend implements Backend {
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    @Override public String name() { return "reference"; }

    @Override public void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) { Gemm.gemmReference(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff); }

    @Override public void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta, float[] C, int cOff, int strideC) { Gemm.gemmBatchedReference(transA, transB, batch, M, N, K, alpha, A, aOff, strideA, B, bOff, strideB, beta, C, cOff, strideC); }

    @Override public void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) { Elementwise.addReference(out, oOff, a, aOff, b, bOff, n); }

    @Override public void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) { Elementwise.mulReference(out, oOff, a, aOff, b, bOff, n); }

    @Override public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) { Elementwise.axpyReference(alpha, x, xOff, y, yOff, n); }

    @Override public void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n) { Elementwise.scaleReference(out, oOff, a, aOff, alpha, n); }

    @Override public double sum(float[] a, int aOff, int n) { return Elementwise.sumReference(a, aOff, n); }

    @Override public double sumSquares(float[] a, int aOff, int n) { return Elementwise.sumSquaresReference(a, aOff, n); }

    @Override public void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) { RmsNormKernel.rmsnormForwardReference(out, rstd, x, w, N, C, eps); }

    @Override public void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) { RmsNormKernel.rmsnormBackwardReference(dx, dw, dout, x, w, rstd, N, C); }

    @Override public void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) { RopeKernel.ropeReference(out, x, pos, cos, sin, R, H, D, inverse); }

    @Override public void swigluForward(float[] out, float[] a, float[] b, int n) { SwiGluKernel.swigluForwardReference(out, a, b, n); }

    @Override public void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) { SwiGluKernel.swigluBackwardReference(da, db, dout, a, b, n); }

    @Override public void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) { AttentionKernel.attentionForwardReference(out, lse, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale); }

    @Override public void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) { AttentionKernel.attentionBackwardReference(dq, dk, dv, dout, q, k, v, out, lse, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale); }

    @Override public void softmaxForward(float[] out, float[] x, int N, int V) { SoftmaxKernels.softmaxForwardReference(out, x, N, V); }

    @Override public void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) { SoftmaxKernels.softmaxBackwardReference(dx, dy, y, N, V); }

    @Override public void logSoftmaxForward(float[] out, float[] x, int N, int V) { SoftmaxKernels.logSoftmaxForwardReference(out, x, N, V); }

    @Override public void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) { SoftmaxKernels.logSoftmaxBackwardReference(dx, dy, y, N, V); }

    @Override public void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V) { SoftmaxKernels.tokenLogProbsForwardReference(out, lse, logits, target, N, V); }

    @Override public void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) { SoftmaxKernels.tokenLogProbsBackwardReference(dlogits, dout, logits, lse, target, N, V); }

    @Override public void entropyForward(float[] out, float[] lse, float[] logits, int N, int V) { SoftmaxKernels.entropyForwardReference(out, lse, logits, N, V); }

    @Override public void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) { SoftmaxKernels.entropyBackwardReference(dlogits, dout, logits, lse, entropy, N, V); }

    @Override public void embeddingForward(float[] out, float[] table, int[] ids, int N, int C) { EmbeddingKernel.embeddingForwardReference(out, table, ids, N, C); }

    @Override public void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C) { EmbeddingKernel.embeddingBackwardReference(dtable, dout, ids, N, C); }

    @Override public void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) { AdamWKernel.adamwReference(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2); }

}

package io.r1kit.model.backend;

/**
 * The compute kernels every op is built from (llm.c style: plain arrays, shapes in comments,
 * a forward and a backward for each op). Tensors are row-major and contiguous; an {@code off}
 * argument is where the operand starts inside its array.
 *
 * <p>{@link CpuBackend} is the fast implementation (Vector API, one shared pool);
 * {@link ReferenceBackend} runs the plain scalar reference kernels that stand beside every fast
 * kernel, and is the control the fast one is tested against. Backward kernels ACCUMULATE into
 * their gradient outputs ({@code +=}) unless the comment says otherwise, so that a tensor used
 * twice receives both contributions.
 */
public interface Backend {

    String name();

    // ------------------------------------------------------------------ GEMM

    /**
     * C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C[M,N].
     * A is stored [M,K] (or [K,M] when transA); B is stored [K,N] (or [N,K] when transB).
     * beta == 0 overwrites C (NaNs in C are not propagated).
     */
    void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
              float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff);

    /**
     * {@code batch} independent GEMMs as {@link #gemm}; operand i starts at off + i * stride.
     * A stride of 0 broadcasts that operand (e.g. one weight matrix for every batch entry).
     */
    void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                     float[] A, int aOff, int strideA, float[] B, int bOff, int strideB,
                     float beta, float[] C, int cOff, int strideC);

    // ------------------------------------------------------------ elementwise (length n)

    /** out = a + b */
    void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n);

    /** out = a * b */
    void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n);

    /** y += alpha * x */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /** out = alpha * a */
    void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n);

    /** sum of a[0..n) in double precision accumulation */
    double sum(float[] a, int aOff, int n);

    /** sum of squares of a[0..n), double accumulation (for global-norm clipping) */
    double sumSquares(float[] a, int aOff, int n);

    // ------------------------------------------------------------------ RMSNorm

    /**
     * out[N,C] = x / sqrt(mean(x^2) + eps) * w[C]; rstd[N] receives 1/sqrt(mean(x^2)+eps)
     * for the backward pass.
     */
    void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps);

    /** dx[N,C] += ..., dw[C] += ...; given dout[N,C], x, w and the saved rstd[N]. */
    void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd,
                         int N, int C);

    // ------------------------------------------------------------------ RoPE

    /**
     * Rotary embedding, Hugging Face "rotate half" convention, in place or out of place.
     * x, out: [R, H, D] where R = rows (batch*time), H heads, D head dim (even).
     * pos[R]: absolute position of each row. cos, sin: [maxPos, D/2] tables
     * (see {@code RopeTables}). out[..., i] = x_i cos - x_{i+D/2} sin, out[..., i+D/2] =
     * x_{i+D/2} cos + x_i sin, for i < D/2. With {@code inverse} the rotation is by -theta,
     * which is exactly the backward pass (dx = rope^T(dout)). Unlike the other backward
     * kernels, {@code rope} always OVERWRITES {@code out}; the autograd op rotates into a
     * temporary and accumulates from there.
     */
    void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D,
              boolean inverse);

    // ------------------------------------------------------------------ SwiGLU

    /** out = silu(a) * b, length n. */
    void swigluForward(float[] out, float[] a, float[] b, int n);

    /** da += dout * b * silu'(a); db += dout * silu(a). */
    void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n);

    // ------------------------------------------------------------------ attention

    /**
     * Causal attention with grouped-query heads, flash-style (online softmax over key blocks),
     * memory O(T) per head: no [Tq, Tk] matrix is ever materialised.
     * q: [B, Tq, Hq, D]   k, v: [B, Tk, Hkv, D]   out: [B, Tq, Hq, D] (overwritten)
     * lse: [B, Hq, Tq] receives the log-sum-exp of each query's scaled scores (for backward).
     * Query head h reads kv head h / (Hq / Hkv). Query row t sits at absolute key position
     * qStart + t (qStart = Tk - Tq for decode/prefix), and attends keys j <= qStart + t.
     * keyMask: [B, Tk], nonzero = the key is real (null = all real); masked keys are skipped,
     * so left- or right-padded ragged batches are exact. A query with no visible key gets 0
     * output, lse = -Infinity (log of an empty sum), and zero gradients in the backward.
     * scale: usually 1/sqrt(D).
     */
    void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v,
                          byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D,
                          int qStart, float scale);

    /**
     * Backward of {@link #attentionForward}, recomputing scores block by block from q, k and the
     * saved lse (flash-attention-2 style). dq, dk, dv ACCUMULATE (same shapes as q, k, v).
     */
    void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout,
                           float[] q, float[] k, float[] v, float[] out, float[] lse,
                           byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D,
                           int qStart, float scale);

    // ------------------------------------------------------------------ softmax family

    /** out[N,V] = softmax(x) row-wise. */
    void softmaxForward(float[] out, float[] x, int N, int V);

    /** dx += y * (dy - sum(dy * y)) row-wise, y = softmax output. */
    void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V);

    /** out[N,V] = log_softmax(x) row-wise. */
    void logSoftmaxForward(float[] out, float[] x, int N, int V);

    /** dx += dy - softmax(x) * sum(dy) row-wise, given the log-softmax output y. */
    void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V);

    /**
     * Fused log-softmax + gather: out[n] = logits[n, target[n]] - logsumexp(logits[n, :]).
     * logits: [N, V]. lse[N] receives logsumexp for the backward. Never allocates [N, V].
     * A negative target (ignored position) gives out[n] = 0 (lse[n] is still filled).
     */
    void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V);

    /** dlogits[n, :] += dout[n] * (onehot(target[n]) - softmax(logits[n, :])); skips target < 0. */
    void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse,
                               int[] target, int N, int V);

    /**
     * Entropy of each row's distribution: out[n] = -sum_v p log p, p = softmax(logits[n, :]);
     * lse[N] receives logsumexp for the backward. -Infinity logits (masked vocabulary) count as
     * 0·log 0 = 0 in the entropy and its gradient, never NaN.
     */
    void entropyForward(float[] out, float[] lse, float[] logits, int N, int V);

    /** dlogits[n, v] += dout[n] * (-p_v (log p_v + H_n)). */
    void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy,
                         int N, int V);

    // ------------------------------------------------------------------ embedding

    /** out[N, C] = table[ids[n], :]; ids must be in [0, vocab). */
    void embeddingForward(float[] out, float[] table, int[] ids, int N, int C);

    /** dtable[ids[n], :] += dout[n, :] (scatter-add; repeated ids accumulate). */
    void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C);

    // ------------------------------------------------------------------ optimizer

    /**
     * One AdamW step over n parameters, decoupled weight decay:
     * p -= lr * wd * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     * p -= lr * (m / bc1) / (sqrt(v / bc2) + eps), with bc1 = 1 - b1^t, bc2 = 1 - b2^t.
     */
    void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1,
               float beta2, float eps, float weightDecay, float bc1, float bc2);
}

package io.r1kit.model.backend.device;

/**
 * The compute kernels on device-resident {@link DeviceArray}s: the device twin of
 * {@link io.r1kit.model.backend.Backend} with the signatures of {@code backend.cuda.CudaOps}
 * (offsets and lengths in elements; shapes and semantics exactly those of the Backend method of
 * the same name; "accumulate" outputs accumulate). Tensors whose storage lives on a device
 * dispatch their ops here ({@code io.r1kit.model.ops.F}); nothing in this interface copies
 * between host and device except the methods under "transfers", which every implementation
 * records in {@link #transfers()}.
 *
 * <p>Implementations: {@code backend.cuda.CudaDeviceBackend} (cuBLAS + the .cu kernels) and
 * {@link EmulatedDevice} (host memory, the CPU kernels; for checking without a GPU).
 * Arrays must belong to the backend they are passed to.
 */
public interface DeviceBackend {

    /** e.g. "cuda:0", "emu". */
    String name();

    /** Every host↔device copy made through this backend. */
    Transfers transfers();

    // ------------------------------------------------------------------ memory

    /** A zero-filled array of n elements. */
    DeviceArray alloc(ElementType type, long n);

    /** a[0, n) = value (F32 arrays; no transfer: a device memset). */
    void fill(DeviceArray a, float value, long n);

    // ------------------------------------------------------------------ transfers (counted)

    /** dst[dstOff, dstOff+n) = src[srcOff, srcOff+n) into an F32 array; one host→device copy. */
    void write(DeviceArray dst, long dstOff, float[] src, int srcOff, int n, String what);

    /** A new I32 array holding src; one host→device copy. */
    DeviceArray upload(int[] src, String what);

    /** A new U8 array holding src; one host→device copy. */
    DeviceArray upload(byte[] src, String what);

    /** dst[dstOff, dstOff+n) = src[srcOff, srcOff+n) from an F32 array; one device→host copy (synchronises). */
    void read(DeviceArray src, long srcOff, float[] dst, int dstOff, int n, String what);

    /** The value of a one-element F64 array (a global sum); one device→host copy (synchronises). */
    double readF64(DeviceArray src, String what);

    /** A new F32 array holding src[off, off+n); one host→device copy. */
    default DeviceArray upload(float[] src, int off, int n, String what) {
        DeviceArray a = alloc(ElementType.F32, n);
        write(a, 0, src, off, n, what);
        return a;
    }

    /** dst[0, n) = src[0, n) from an I32 array (sampled token ids); one device→host copy (synchronises). */
    void readInts(DeviceArray src, int[] dst, int n, String what);

    // ------------------------------------------------------------------ GEMM (fp32 C, precision per implementation)

    /** C[M,N] = alpha op(A) op(B) + beta C (row-major, Backend.gemm). */
    void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceArray A, long aOff,
              DeviceArray B, long bOff, float beta, DeviceArray C, long cOff);

    /** batch GEMMs, operand i at off + i * stride (stride 0 broadcasts), as Backend.gemmBatched. */
    void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                     DeviceArray A, long aOff, long strideA, DeviceArray B, long bOff, long strideB,
                     float beta, DeviceArray C, long cOff, long strideC);

    /**
     * Mixed precision: as {@link #gemmBatched} but with BF16 operands A16, B16 (already rounded, e.g. the
     * optimizer's bf16 weight copy or an activation stored in bf16) and fp32 accumulation into the F32 C.
     * batch 1 is a plain GEMM (strides unused). On CUDA, cuBLAS with {@code CUDA_R_16BF} operands and
     * {@code CUBLAS_COMPUTE_32F}; the fp32 {@link #gemm} at bf16 precision is exactly this after casting.
     */
    void gemmBf16(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                  DeviceArray A16, long aOff, long strideA, DeviceArray B16, long bOff, long strideB,
                  float beta, DeviceArray C, long cOff, long strideC);

    // ------------------------------------------------------------------ elementwise (length n)

    /** out = a + b */
    void add(DeviceArray out, DeviceArray a, DeviceArray b, long n);

    /** out = a * b */
    void mul(DeviceArray out, DeviceArray a, DeviceArray b, long n);

    /** y += alpha * x */
    void axpy(float alpha, DeviceArray x, DeviceArray y, long n);

    /** out = alpha * a (out may be a) */
    void scale(DeviceArray out, DeviceArray a, float alpha, long n);

    /**
     * dst[dstOff + r·dstLd + c] = (accumulate ? dst[..] : 0) + src[srcOff + r·srcLd + c] for r &lt; rows,
     * c &lt; cols (F32): slice and concat along any dim, and their backwards.
     */
    void copy2d(DeviceArray dst, long dstOff, long dstLd, DeviceArray src, long srcOff, long srcLd, long rows, long cols,
                boolean accumulate);

    /** out[r, c] = x[r, c] + bias[c]; x, out [rows, cols], bias [cols] (the linear-layer bias). */
    void addRowBroadcast(DeviceArray out, DeviceArray x, DeviceArray bias, int rows, int cols);

    /** dbias[c] += alpha * sum_r g[r, c]; g [rows, cols] (the bias gradient). */
    void sumRowsInto(DeviceArray dbias, DeviceArray g, int rows, int cols, float alpha);

    /** out[0] = scale * sum(x[0, n)) into a one-element F32 array (a loss stays on the device). */
    void sumScaled(DeviceArray out, DeviceArray x, long n, float scale);

    /**
     * out[0] = mean(x[0, n)) into a one-element F32 array; by default {@link #sumScaled} with
     * scale 1/n (a float), which the host replaces by the double sum divided by n.
     */
    default void meanAll(DeviceArray out, DeviceArray x, long n) {
        sumScaled(out, x, n, 1f / n);
    }

    /** dx[i] += scale * g[0] for i < n (backward of {@link #sumScaled}; g is a device scalar). */
    void addScalarBroadcast(DeviceArray dx, DeviceArray g, long n, float scale);

    /** Sum (or sum of squares) of x[0, n) into acc[0] (F64, device), adding to it when accumulate. */
    void sumInto(DeviceArray x, long n, boolean squares, DeviceArray acc, boolean accumulate);

    /** g *= min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)), reading the global sum of squares on the device. */
    void clipByGlobalNorm(DeviceArray g, long n, DeviceArray sumsq, float maxNorm);

    // ------------------------------------------------------------------ loss ops (GRPO / SFT): elementwise with broadcasting, reductions

    /** out[0, n) = op(x[0, n)) with the op's scalars p, q ({@link UnaryOp}; SCALE and NEG also run on {@link #scale}). */
    void unary(UnaryOp op, DeviceArray out, DeviceArray x, long n, float p, float q);

    /** dx[0, n) += g · op'(x), reading x and the forward's output y (accumulates). */
    void unaryBackward(UnaryOp op, DeviceArray dx, DeviceArray g, DeviceArray x, DeviceArray y, long n, float p, float q);

    /**
     * out (contiguous, row-major {@code shape}) = op(a, b), operand element at index (i_0..i_k) read at
     * Σ i_d · stride[d] (stride 0 along a dim the operand is broadcast along: numpy broadcasting).
     */
    void binary(BinaryOp op, DeviceArray out, DeviceArray a, DeviceArray b, int[] shape, int[] strideA, int[] strideB);

    /** da, db (either may be null) += g · ∂op through the same strides (broadcast dims summed; accumulates). */
    void binaryBackward(BinaryOp op, DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray a, DeviceArray b, int[] shape,
                        int[] strideA, int[] strideB);

    /** out = cond != 0 ? a : b, all three read through strides as in {@link #binary}. */
    void where(DeviceArray out, DeviceArray cond, DeviceArray a, DeviceArray b, int[] shape, int[] strideC, int[] strideA,
               int[] strideB);

    /** da += g where cond != 0, db += g elsewhere (either may be null; accumulates). */
    void whereBackward(DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray cond, int[] shape, int[] strideC,
                       int[] strideA, int[] strideB);

    /**
     * x viewed as [outer, n, inner]: out[o, i] = scale(o, i) · Σ_j x[o, j, i] · mask[o, j, i]
     * (sums in double; mask null = all ones). scale = 1 for a sum; for a mean 1/n without a mask,
     * 1/Σ_j mask[o, j, i] with one (0 when that sum is 0). The reductions of F (sum / mean over a dim,
     * masked sum / mean, global or over a dim).
     */
    void maskedReduce(DeviceArray out, DeviceArray x, DeviceArray mask, int outer, int n, int inner, boolean mean);

    /** dx[o, j, i] += g[o, i] · scale(o, i) · mask[o, j, i] (scale recomputed from the mask as in {@link #maskedReduce}). */
    void maskedReduceBackward(DeviceArray dx, DeviceArray g, DeviceArray mask, int outer, int n, int inner, boolean mean);

    // ------------------------------------------------------------------ transformer blocks

    void rmsnormForward(DeviceArray out, DeviceArray rstd, DeviceArray x, DeviceArray w, int N, int C, float eps);

    void rmsnormBackward(DeviceArray dx, DeviceArray dw, DeviceArray dout, DeviceArray x, DeviceArray w, DeviceArray rstd,
                         int N, int C);

    /** pos: I32 [R]; cos, sin: F32 [maxPos, D/2]; out is overwritten (Backend.rope). */
    void rope(DeviceArray out, DeviceArray x, DeviceArray pos, DeviceArray cos, DeviceArray sin, int R, int H, int D,
              boolean inverse);

    void swigluForward(DeviceArray out, DeviceArray a, DeviceArray b, long n);

    void swigluBackward(DeviceArray da, DeviceArray db, DeviceArray dout, DeviceArray a, DeviceArray b, long n);

    /** keyMask: U8 [B, Tk] or null (all keys real). */
    void attentionForward(DeviceArray out, DeviceArray lse, DeviceArray q, DeviceArray k, DeviceArray v, DeviceArray keyMask,
                          int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale);

    void attentionBackward(DeviceArray dq, DeviceArray dk, DeviceArray dv, DeviceArray dout, DeviceArray q, DeviceArray k,
                           DeviceArray v, DeviceArray out, DeviceArray lse, DeviceArray keyMask,
                           int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale);

    // ------------------------------------------------------------------ softmax family

    void softmaxForward(DeviceArray out, DeviceArray x, int N, int V);

    void softmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V);

    void logSoftmaxForward(DeviceArray out, DeviceArray x, int N, int V);

    void logSoftmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V);

    /** target: I32 [N] (negative = ignored, gives 0). */
    void tokenLogProbsForward(DeviceArray out, DeviceArray lse, DeviceArray logits, DeviceArray target, int N, int V);

    void tokenLogProbsBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits, DeviceArray lse, DeviceArray target,
                               int N, int V);

    void entropyForward(DeviceArray out, DeviceArray lse, DeviceArray logits, int N, int V);

    void entropyBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits, DeviceArray lse, DeviceArray entropy,
                         int N, int V);

    // ------------------------------------------------------------------ embedding (ids: I32 [N], validated by the caller)

    void embeddingForward(DeviceArray out, DeviceArray table, DeviceArray ids, int N, int C);

    void embeddingBackward(DeviceArray dtable, DeviceArray dout, DeviceArray ids, int N, int C);

    // ------------------------------------------------------------------ optimizer and mixed precision

    /** One fp32 AdamW step over n elements (Backend.adamw). */
    void adamw(DeviceArray p, DeviceArray g, DeviceArray m, DeviceArray v, long n, float lr, float beta1, float beta2,
               float eps, float weightDecay, float bc1, float bc2);

    /**
     * Mixed precision step: fp32 master p, m, v; BF16 gradients g16 (multiplied by gradScale);
     * writes the BF16 weight copy p16 = bf16(p) after the update.
     */
    void adamwBf16(DeviceArray p, DeviceArray g16, DeviceArray m, DeviceArray v, DeviceArray p16, long n, float lr,
                   float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2, float gradScale);

    /** A new BF16 array: round-to-nearest-even bf16 of x[off, off+n). */
    DeviceArray castToBf16(DeviceArray x, long off, long n);

    /** out[0, n) (F32) = in16[0, n) (BF16), exact. */
    void bf16ToF32(DeviceArray out, DeviceArray in16, long n);

    // ------------------------------------------------------------------ decoding (KV cache, sampling)

    /** a[0, n) = value into an I32 array (no transfer: a device memset; e.g. the cache slot all rows append at). */
    void fillI32(DeviceArray a, int value, long n);

    /**
     * cache F32 [B, maxT, rowSize]: rows F32 [B, Tnew, rowSize] written at slots start[b] ..
     * start[b]+Tnew-1 (start: I32 [B]).
     */
    void kvAppend(DeviceArray cache, DeviceArray rows, DeviceArray start, int B, int Tnew, int maxT, int rowSize);

    /** dst[i, :] = src[idx[i], :] over slabs of slabSize F32 elements, i &lt; nOut (idx: I32 [nOut]; forks / compacts rows). */
    void kvGather(DeviceArray dst, DeviceArray src, DeviceArray idx, int nOut, long slabSize);

    /**
     * One token per row of logits F32 [N, V] into out (I32 [N]) and its log-prob into logprob
     * (F32 [N]). uniforms: F32 [N] in [0, 1), the host RNG's draws (the CPU sampling kernel's
     * {@code rng.nextDouble()}), so device and CPU pick the same token. The semantics are
     * {@link io.r1kit.model.backend.TokenSampler}'s: temperature 0 = greedy (argmax, lowest id on
     * ties, RAW log-prob); topK 0, topP 1, minP 0 = off; logprobMode 0 processed, 1 temperature, 2 raw.
     */
    void sample(DeviceArray out, DeviceArray logprob, DeviceArray logits, DeviceArray uniforms, int N, int V,
                float temperature, int topK, float topP, float minP, int logprobMode);
}

package io.r1kit.model.backend.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.cudaDataType;
import jcuda.driver.CUdeviceptr;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasOperation;

/**
 * The device-resident layer: every op of {@link io.r1kit.model.backend.Backend} (and the extra
 * kernels a GPU training/decoding loop needs: bf16 casts, global-norm clipping on the device,
 * masked sums, the mixed-precision AdamW, sampling, KV-cache append/gather) on
 * {@link DeviceBuffer}s, with NO host transfer. Shapes and semantics are those of the Backend
 * methods of the same name; outputs documented as accumulating there accumulate here too.
 * Everything is enqueued on the device's single stream (asynchronous to the host) except the
 * methods returning a host value (sums), which synchronise.
 *
 * <p>GEMMs go to cuBLAS ({@code cublasGemmEx} / {@code cublasGemmStridedBatchedEx}, through JCublas2's {@code _new} entry points that take a {@code cublasComputeType_t}); the row-major
 * product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T, i.e. with A and B
 * swapped, so no transposes are materialised. When cuBLAS cannot be loaded ({@link GemmPath#OWN})
 * they go to r1kit's kernels in gemm.cu instead: bf16 operands on the tensor cores
 * ({@code gemm_bf16_mma}), fp32 and tf32 requests on the tiled SIMT kernel in full fp32.
 */
public final class CudaOps {

    /**
     * How fp32 GEMM operands are multiplied. BF16: rounded to bf16 on the device (the mixed-precision
     * default, tensor cores, fp32 accumulation, CUBLAS_COMPUTE_32F); TF32: fp32 storage, TF32 tensor
     * cores (CUBLAS_COMPUTE_32F_FAST_TF32); FP32: full fp32 (CUBLAS_COMPUTE_32F).
     */
    public enum GemmPrecision { FP32, TF32, BF16 }

    /** Which GEMM implementation runs: cuBLAS, or r1kit's own kernels (gemm.cu) when cuBLAS cannot be loaded. */
    public enum GemmPath { CUBLAS, OWN }

    static final int GEMM_TILE = 64;
    static final int MAX_GRID_YZ = 65535;

    static final int THREADS = 256;
    static final int MAX_HEAD_DIM = 256;

    private final DeviceApi dev;
    private final GemmPath gemmPath;

    CudaOps(DeviceApi dev) {
        this(dev, GemmPath.CUBLAS);
    }

    CudaOps(DeviceApi dev, GemmPath gemmPath) {
        this.dev = dev;
        this.gemmPath = gemmPath;
    }

    public GemmPath gemmPath() { return gemmPath; }

    // =================================================================== GEMM

    /** C[M,N] = alpha op(A) op(B) + beta C (row-major, Backend.gemm); offsets in elements. */
    public void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceBuffer A, long aOff,
                     DeviceBuffer B, long bOff, float beta, DeviceBuffer C, long cOff, GemmPrecision precision) {
        gemmBatched(transA, transB, 1, M, N, K, alpha, A, aOff, 0, B, bOff, 0, beta, C, cOff, 0, precision);
    }

    /** batch GEMMs, operand i at off + i * stride (stride 0 broadcasts), as Backend.gemmBatched. */
    public void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                            DeviceBuffer A, long aOff, long strideA, DeviceBuffer B, long bOff, long strideB,
                            float beta, DeviceBuffer C, long cOff, long strideC, GemmPrecision precision) {
        if (batch == 0 || M == 0 || N == 0) return;
        if (precision != GemmPrecision.BF16 && gemmPath == GemmPath.OWN) {
            ownGemm(Kernel.GEMM_F32_SIMT, transA, transB, batch, M, N, K, alpha, A, aOff, strideA, B, bOff, strideB, beta, C, cOff, strideC);
            return;
        }
        if (precision != GemmPrecision.BF16) {
            int compute = precision == GemmPrecision.TF32 ? cublasComputeType.CUBLAS_COMPUTE_32F_FAST_TF32
                    : cublasComputeType.CUBLAS_COMPUTE_32F;
            cublasGemm(transA, transB, batch, M, N, K, alpha, A.at(aOff, Sizeof.FLOAT), strideA, B.at(bOff, Sizeof.FLOAT), strideB,
                    cudaDataType.CUDA_R_32F, beta, C.at(cOff, Sizeof.FLOAT), strideC, compute);
            return;
        }
        long extentA = strideA * (batch - 1) + (long) M * K, extentB = strideB * (batch - 1) + (long) K * N;
        try (DeviceBuffer a16 = castToBf16(A, aOff, extentA); DeviceBuffer b16 = castToBf16(B, bOff, extentB)) {
            gemmBf16(transA, transB, batch, M, N, K, alpha, a16, 0, strideA, b16, 0, strideB, beta, C, cOff, strideC);
        }
    }

    /**
     * Mixed precision GEMM: bf16 A and B (raw 16-bit buffers), fp32 C, fp32 accumulation
     * (CUDA_R_16BF inputs, CUBLAS_COMPUTE_32F). Offsets and strides in elements.
     */
    public void gemmBf16(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                         DeviceBuffer A16, long aOff, long strideA, DeviceBuffer B16, long bOff, long strideB,
                         float beta, DeviceBuffer C, long cOff, long strideC) {
        if (batch == 0 || M == 0 || N == 0) return;
        if (gemmPath == GemmPath.OWN) {
            ownGemm(Kernel.GEMM_BF16_MMA, transA, transB, batch, M, N, K, alpha, A16, aOff, strideA, B16, bOff, strideB, beta, C, cOff, strideC);
            return;
        }
        cublasGemm(transA, transB, batch, M, N, K, alpha, A16.at(aOff, 2), strideA, B16.at(bOff, 2), strideB,
                cudaDataType.CUDA_R_16BF, beta, C.at(cOff, Sizeof.FLOAT), strideC, cublasComputeType.CUBLAS_COMPUTE_32F);
    }

    /**
     * {@link #gemmBf16} on the plain SIMT kernel (gemm_bf16_simt), whatever the GEMM path: the
     * reference the tensor-core kernel is compared with on a GPU (the self-test).
     */
    public void gemmBf16Simt(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                             DeviceBuffer A16, long aOff, long strideA, DeviceBuffer B16, long bOff, long strideB,
                             float beta, DeviceBuffer C, long cOff, long strideC) {
        ownGemm(Kernel.GEMM_BF16_SIMT, transA, transB, batch, M, N, K, alpha, A16, aOff, strideA, B16, bOff, strideB, beta, C, cOff, strideC);
    }

    /**
     * One of gemm.cu's kernels: 64x64 output tiles, batch in grid z (in chunks of 65535). Operands
     * are fp32 for GEMM_F32_SIMT, bf16 for the others; offsets and strides in elements.
     */
    void ownGemm(Kernel k, boolean transA, boolean transB, int batch, int M, int N, int K, float alpha, DeviceBuffer A, long aOff,
                 long strideA, DeviceBuffer B, long bOff, long strideB, float beta, DeviceBuffer C, long cOff, long strideC) {
        if (batch == 0 || M == 0 || N == 0) return;
        int gx = (N + GEMM_TILE - 1) / GEMM_TILE, gy = (M + GEMM_TILE - 1) / GEMM_TILE;
        if (gy > MAX_GRID_YZ) throw new IllegalArgumentException("gemm: M=" + M + " exceeds r1kit's GEMM limit of " + (long) MAX_GRID_YZ * GEMM_TILE + " rows");
        int es = k == Kernel.GEMM_F32_SIMT ? Sizeof.FLOAT : 2;
        int block = k == Kernel.GEMM_BF16_MMA ? 128 : 256;
        for (int b0 = 0; b0 < batch; b0 += MAX_GRID_YZ) {
            int nb = Math.min(MAX_GRID_YZ, batch - b0);
            dev.launch(k, gx, gy, nb, block, 0, transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A.at(aOff + b0 * strideA, es), strideA,
                    B.at(bOff + b0 * strideB, es), strideB, beta, C.at(cOff + b0 * strideC, Sizeof.FLOAT), strideC);
        }
    }

    private void cublasGemm(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                            CUdeviceptr A, long strideA, CUdeviceptr B, long strideB, int abType, float beta,
                            CUdeviceptr C, long strideC, int compute) {
        // row-major C[M,N] = op(A) op(B)  <=>  column-major C^T[N,M] = op(B)^T op(A)^T
        int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
        int ldb = transB ? K : N;       // B stored [K,N] (or [N,K] when transB), row-major
        int lda = transA ? M : K;       // A stored [M,K] (or [K,M] when transA)
        Pointer pa = Pointer.to(new float[] {alpha}), pb = Pointer.to(new float[] {beta});
        // The *_new entry points take a cublasComputeType_t (CUBLAS_COMPUTE_32F = 68, ..._FAST_TF32 = 77).
        // JCublas2.cublasGemmEx without _new expects the legacy cudaDataType compute type (0..10) and
        // answers CUBLAS_STATUS_NOT_SUPPORTED (15) for anything else (read from its bytecode).
        int status;
        if (batch == 1) {
            status = JCublas2.cublasGemmEx_new(dev.cublas(), opB, opA, N, M, K, pa, B, abType, Math.max(1, ldb), A, abType,
                    Math.max(1, lda), pb, C, cudaDataType.CUDA_R_32F, N, compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        } else {
            status = JCublas2.cublasGemmStridedBatchedEx_new(dev.cublas(), opB, opA, N, M, K, pa, B, abType, Math.max(1, ldb),
                    strideB, A, abType, Math.max(1, lda), strideA, pb, C, cudaDataType.CUDA_R_32F, N, strideC, batch,
                    compute, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
        }
        CudaDevice.cublasCheck(status, "cublasGemmEx(M=" + M + ",N=" + N + ",K=" + K + ",batch=" + batch + ")");
    }

    // =================================================================== casts

    /** A new bf16 buffer holding round-to-nearest-even bf16 copies of x[off, off+n). */
    public DeviceBuffer castToBf16(DeviceBuffer x, long off, long n) {
        DeviceBuffer out = dev.alloc(Math.max(2, n * 2));
        dev.launch(Kernel.F32_TO_BF16, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, x.at(off, Sizeof.FLOAT), n);
        return out;
    }

    public void bf16ToF32(DeviceBuffer out, DeviceBuffer in16, long n) {
        dev.launch(Kernel.BF16_TO_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, in16, n);
    }

    // =================================================================== elementwise

    public void add(DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, long n) {
        dev.launch(Kernel.ADD_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, a, b, n);
    }

    public void mul(DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, long n) {
        dev.launch(Kernel.MUL_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, a, b, n);
    }

    public void axpy(float alpha, DeviceBuffer x, DeviceBuffer y, long n) {
        dev.launch(Kernel.AXPY_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, alpha, x, y, n);
    }

    public void scale(DeviceBuffer out, DeviceBuffer a, float alpha, long n) {
        dev.launch(Kernel.SCALE_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, a, alpha, n);
    }

    /** dst[dstOff + r*dstLd + c] (+)= src[srcOff + r*srcLd + c], r &lt; rows, c &lt; cols (slice / concat and their backwards). */
    public void copy2d(DeviceBuffer dst, long dstOff, long dstLd, DeviceBuffer src, long srcOff, long srcLd, long rows, long cols,
                       boolean accumulate) {
        if (rows * cols == 0) return;
        dev.launch(Kernel.COPY2D_F32, dev.elementwiseGrid(rows * cols), 1, 1, THREADS, 0, dst, dstOff, dstLd, src, srcOff, srcLd,
                rows, cols, accumulate ? 1 : 0);
    }

    // ------------------------------------------------------------------- loss ops (loss.cu)

    /** out = op(x) elementwise; op: the ordinal of {@code device.UnaryOp}. */
    public void unary(int op, DeviceBuffer out, DeviceBuffer x, long n, float p, float q) {
        dev.launch(Kernel.UNARY_FWD, dev.elementwiseGrid(n), 1, 1, THREADS, 0, op, out, x, n, p, q);
    }

    /** dx += g · op'(x) (y: the forward's output). */
    public void unaryBackward(int op, DeviceBuffer dx, DeviceBuffer g, DeviceBuffer x, DeviceBuffer y, long n, float p, float q) {
        dev.launch(Kernel.UNARY_BWD, dev.elementwiseGrid(n), 1, 1, THREADS, 0, op, dx, g, x, y, n, p, q);
    }

    /** shape and strides as 4 boxed ints each (leading dims padded with size 1 / stride 0); rank above 4 is refused. */
    private static Object[] dims4(int[] shape, int[]... strides) {
        if (shape.length > 4) throw new IllegalArgumentException("loss.cu: broadcast of rank " + shape.length + " > 4");
        Object[] r = new Object[4 * (1 + strides.length)];
        int pad = 4 - shape.length;
        for (int d = 0; d < 4; d++) {
            r[d] = d < pad ? 1 : shape[d - pad];
            for (int s = 0; s < strides.length; s++) r[4 * (s + 1) + d] = d < pad ? 0 : strides[s][d - pad];
        }
        return r;
    }

    private static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    private static Object[] concat(Object[] head, Object[] tail) {
        Object[] r = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, r, head.length, tail.length);
        return r;
    }

    /** out (contiguous shape) = op(a, b) through strides; op: the ordinal of {@code device.BinaryOp}. */
    public void binary(int op, DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, int[] shape, int[] strideA, int[] strideB) {
        dev.launch(Kernel.BINARY_FWD, dev.elementwiseGrid(numel(shape)), 1, 1, THREADS, 0,
                concat(new Object[] {op, out, a, b}, dims4(shape, strideA, strideB)));
    }

    /** da, db (null = not needed) += g · ∂op through the strides (atomicAdd). */
    public void binaryBackward(int op, DeviceBuffer da, DeviceBuffer db, DeviceBuffer g, DeviceBuffer a, DeviceBuffer b, int[] shape,
                               int[] strideA, int[] strideB) {
        dev.launch(Kernel.BINARY_BWD, dev.elementwiseGrid(numel(shape)), 1, 1, THREADS, 0,
                concat(new Object[] {op, da, db, g, a, b}, dims4(shape, strideA, strideB)));
    }

    /** out = cond != 0 ? a : b through strides. */
    public void where(DeviceBuffer out, DeviceBuffer cond, DeviceBuffer a, DeviceBuffer b, int[] shape, int[] strideC, int[] strideA,
                      int[] strideB) {
        dev.launch(Kernel.WHERE_FWD, dev.elementwiseGrid(numel(shape)), 1, 1, THREADS, 0,
                concat(new Object[] {out, cond, a, b}, dims4(shape, strideC, strideA, strideB)));
    }

    /** da += g where cond != 0, db += g elsewhere (null = not needed). */
    public void whereBackward(DeviceBuffer da, DeviceBuffer db, DeviceBuffer g, DeviceBuffer cond, int[] shape, int[] strideC,
                              int[] strideA, int[] strideB) {
        dev.launch(Kernel.WHERE_BWD, dev.elementwiseGrid(numel(shape)), 1, 1, THREADS, 0,
                concat(new Object[] {da, db, g, cond}, dims4(shape, strideC, strideA, strideB)));
    }

    /** x [outer, n, inner] summed over n (times mask, null = ones), scaled for a mean; one thread per output. */
    public void maskedReduce(DeviceBuffer out, DeviceBuffer x, DeviceBuffer mask, int outer, int n, int inner, boolean mean) {
        dev.launch(Kernel.MASKED_REDUCE_FWD, dev.elementwiseGrid((long) outer * inner), 1, 1, THREADS, 0, out, x, mask, outer, n,
                inner, mean ? 1 : 0);
    }

    /** dx[o, j, i] += g[o, i] · scale · mask[o, j, i]. */
    public void maskedReduceBackward(DeviceBuffer dx, DeviceBuffer g, DeviceBuffer mask, int outer, int n, int inner, boolean mean) {
        dev.launch(Kernel.MASKED_REDUCE_BWD, dev.elementwiseGrid((long) outer * inner), 1, 1, THREADS, 0, dx, g, mask, outer, n,
                inner, mean ? 1 : 0);
    }

    /** Sum (or sum of squares) of x[0, n) into acc[0] (double, device), adding to it when accumulate. */
    public void sumInto(DeviceBuffer x, long n, boolean squares, DeviceBuffer acc, boolean accumulate) {
        int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, 1024));
        try (DeviceBuffer partials = dev.alloc((long) blocks * Sizeof.DOUBLE)) {
            dev.launch(Kernel.SUM_PARTIALS_F32, blocks, 1, 1, THREADS, 0, x, n, squares ? 1 : 0, partials);
            dev.launch(Kernel.SUM_FINISH_F64, 1, 1, 1, THREADS, 0, partials, blocks, acc, accumulate ? 1 : 0);
        }
    }

    /** sum of x[0, n) (double accumulation); synchronises to return the value. */
    public double sum(DeviceBuffer x, long n, boolean squares) {
        if (n == 0) return 0.0;
        try (DeviceBuffer acc = dev.alloc(Sizeof.DOUBLE)) {
            sumInto(x, n, squares, acc, false);
            double[] r = new double[1];
            dev.download(acc, r, 1);
            return r[0];
        }
    }

    /** g *= min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)), reading the global sum of squares on the device. */
    public void clipByGlobalNorm(DeviceBuffer g, long n, DeviceBuffer sumsq, float maxNorm) {
        dev.launch(Kernel.CLIP_SCALE_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, g, n, sumsq, maxNorm);
    }

    /** {sum(x * mask), sum(mask)} in double (cross-entropy / masked-mean pieces); synchronises. */
    public double[] maskedSum(DeviceBuffer x, DeviceBuffer mask, long n) {
        int blocks = (int) Math.max(1, Math.min((n + THREADS - 1) / THREADS, 1024));
        try (DeviceBuffer partials = dev.alloc(2L * blocks * Sizeof.DOUBLE)) {
            dev.launch(Kernel.MASKED_SUM_PARTIALS_F32, blocks, 1, 1, THREADS, 0, x, mask, n, partials);
            double[] p = new double[2 * blocks];
            dev.download(partials, p, p.length);
            double sx = 0, sm = 0;
            for (int i = 0; i < blocks; i++) { sx += p[2 * i]; sm += p[2 * i + 1]; }
            return new double[] {sx, sm};
        }
    }

    // =================================================================== transformer

    public void rmsnormForward(DeviceBuffer out, DeviceBuffer rstd, DeviceBuffer x, DeviceBuffer w, int N, int C, float eps) {
        dev.launch(Kernel.RMSNORM_FWD, N, 1, 1, THREADS, 0, out, rstd, x, w, N, C, eps);
    }

    public void rmsnormBackward(DeviceBuffer dx, DeviceBuffer dw, DeviceBuffer dout, DeviceBuffer x, DeviceBuffer w,
                                DeviceBuffer rstd, int N, int C) {
        dev.launch(Kernel.RMSNORM_BWD_DX, N, 1, 1, THREADS, 0, dx, dout, x, w, rstd, N, C);
        int rowsPerChunk = Math.max(64, (N + 65534) / 65535);
        int chunks = (N + rowsPerChunk - 1) / rowsPerChunk;
        dev.launch(Kernel.RMSNORM_BWD_DW, (C + THREADS - 1) / THREADS, chunks, 1, THREADS, 0, dw, dout, x, rstd, N, C, rowsPerChunk);
    }

    public void rope(DeviceBuffer out, DeviceBuffer x, DeviceBuffer pos, DeviceBuffer cos, DeviceBuffer sin, int R, int H, int D,
                     boolean inverse) {
        long n = (long) R * H * (D / 2);
        dev.launch(Kernel.ROPE_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, x, pos, cos, sin, R, H, D, inverse ? 1 : 0);
    }

    public void swigluForward(DeviceBuffer out, DeviceBuffer a, DeviceBuffer b, long n) {
        dev.launch(Kernel.SWIGLU_FWD, dev.elementwiseGrid(n), 1, 1, THREADS, 0, out, a, b, n);
    }

    public void swigluBackward(DeviceBuffer da, DeviceBuffer db, DeviceBuffer dout, DeviceBuffer a, DeviceBuffer b, long n) {
        dev.launch(Kernel.SWIGLU_BWD, dev.elementwiseGrid(n), 1, 1, THREADS, 0, da, db, dout, a, b, n);
    }

    /** Dynamic shared memory of attention_fwd: 16 query rows, a K tile (rows padded to D+1) and a V tile. */
    static int attentionForwardSmem(int D) {
        return (16 * D + 32 * (D + 1) + 32 * D) * Sizeof.FLOAT;
    }

    /** Dynamic shared memory of attention_bwd: K, V, dK, dV tiles (padded) and per-warp q/dout/dS rows. */
    static int attentionBackwardSmem(int D) {
        return (4 * 32 * (D + 1) + 4 * (2 * D + 32)) * Sizeof.FLOAT;
    }

    static void checkAttention(int Hq, int Hkv, int D) {
        if (D > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("CUDA attention: head dim D=" + D + " is above the supported maximum " + MAX_HEAD_DIM);
        }
        if (Hkv <= 0 || Hq % Hkv != 0) {
            throw new IllegalArgumentException("CUDA attention: query heads Hq=" + Hq + " must be a positive multiple of kv heads Hkv=" + Hkv);
        }
    }

    /** keyMask: device bytes [B, Tk] or null (all keys real). */
    public void attentionForward(DeviceBuffer out, DeviceBuffer lse, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                                 DeviceBuffer keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        checkAttention(Hq, Hkv, D);
        if (B == 0 || Tq == 0 || Hq == 0) return;
        dev.launch(Kernel.ATTENTION_FWD, (Tq + 15) / 16, Hq, B, 128, attentionForwardSmem(D),
                out, lse, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
    }

    public void attentionBackward(DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer dout, DeviceBuffer q,
                                  DeviceBuffer k, DeviceBuffer v, DeviceBuffer out, DeviceBuffer lse, DeviceBuffer keyMask,
                                  int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        checkAttention(Hq, Hkv, D);
        if (B == 0 || Tq == 0 || Tk == 0 || Hq == 0 || D == 0) return;
        long rows = (long) B * Tq * Hq;
        try (DeviceBuffer di = dev.alloc(rows * Sizeof.FLOAT)) {
            dev.launch(Kernel.ATTENTION_BWD_DOT, (int) ((rows + 3) / 4), 1, 1, 128, 0, di, dout, out, B, Tq, Hq, D);
            dev.launch(Kernel.ATTENTION_BWD, (Tk + 31) / 32, Hkv, B, 128, attentionBackwardSmem(D),
                    dq, dk, dv, dout, q, k, v, lse, di, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
        }
    }

    // =================================================================== softmax family (one block per row)

    public void softmaxForward(DeviceBuffer out, DeviceBuffer x, int N, int V) {
        dev.launch(Kernel.SOFTMAX_FWD, N, 1, 1, THREADS, 0, out, x, N, V);
    }

    public void softmaxBackward(DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer y, int N, int V) {
        dev.launch(Kernel.SOFTMAX_BWD, N, 1, 1, THREADS, 0, dx, dy, y, N, V);
    }

    public void logSoftmaxForward(DeviceBuffer out, DeviceBuffer x, int N, int V) {
        dev.launch(Kernel.LOG_SOFTMAX_FWD, N, 1, 1, THREADS, 0, out, x, N, V);
    }

    public void logSoftmaxBackward(DeviceBuffer dx, DeviceBuffer dy, DeviceBuffer y, int N, int V) {
        dev.launch(Kernel.LOG_SOFTMAX_BWD, N, 1, 1, THREADS, 0, dx, dy, y, N, V);
    }

    public void tokenLogProbsForward(DeviceBuffer out, DeviceBuffer lse, DeviceBuffer logits, DeviceBuffer target, int N, int V) {
        dev.launch(Kernel.TOKEN_LOGPROBS_FWD, N, 1, 1, THREADS, 0, out, lse, logits, target, N, V);
    }

    public void tokenLogProbsBackward(DeviceBuffer dlogits, DeviceBuffer dout, DeviceBuffer logits, DeviceBuffer lse,
                                      DeviceBuffer target, int N, int V) {
        dev.launch(Kernel.TOKEN_LOGPROBS_BWD, N, 1, 1, THREADS, 0, dlogits, dout, logits, lse, target, N, V);
    }

    public void entropyForward(DeviceBuffer out, DeviceBuffer lse, DeviceBuffer logits, int N, int V) {
        dev.launch(Kernel.ENTROPY_FWD, N, 1, 1, THREADS, 0, out, lse, logits, N, V);
    }

    public void entropyBackward(DeviceBuffer dlogits, DeviceBuffer dout, DeviceBuffer logits, DeviceBuffer lse,
                                DeviceBuffer entropy, int N, int V) {
        dev.launch(Kernel.ENTROPY_BWD, N, 1, 1, THREADS, 0, dlogits, dout, logits, lse, entropy, N, V);
    }

    // =================================================================== embedding

    /** ids: device ints [N], already validated to lie in [0, vocab). */
    public void embeddingForward(DeviceBuffer out, DeviceBuffer table, DeviceBuffer ids, int N, int C) {
        dev.launch(Kernel.EMBEDDING_FWD, N, 1, 1, rowThreads(C), 0, out, table, ids, N, C);
    }

    public void embeddingBackward(DeviceBuffer dtable, DeviceBuffer dout, DeviceBuffer ids, int N, int C) {
        dev.launch(Kernel.EMBEDDING_BWD, N, 1, 1, rowThreads(C), 0, dtable, dout, ids, N, C);
    }

    private static int rowThreads(int C) {
        return Math.max(32, Math.min(THREADS, (C + 31) / 32 * 32));
    }

    // =================================================================== optimizer

    public void adamw(DeviceBuffer p, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, long n, float lr, float beta1, float beta2,
                      float eps, float weightDecay, float bc1, float bc2) {
        dev.launch(Kernel.ADAMW_F32, dev.elementwiseGrid(n), 1, 1, THREADS, 0, p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    /** Mixed precision step: fp32 master p, m, v; bf16 gradients g16 (times gradScale); writes the bf16 weight copy p16. */
    public void adamwBf16(DeviceBuffer p, DeviceBuffer g16, DeviceBuffer m, DeviceBuffer v, DeviceBuffer p16, long n, float lr,
                          float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2, float gradScale) {
        dev.launch(Kernel.ADAMW_BF16, dev.elementwiseGrid(n), 1, 1, THREADS, 0, p, g16, m, v, p16, n, lr, beta1, beta2, eps,
                weightDecay, bc1, bc2, gradScale);
    }

    // =================================================================== decoding

    /**
     * Samples one token per row of logits [N, V] into out (device ints [N]) and its log-prob into
     * logprob (device floats [N]); uniforms: device floats [N] in [0, 1) (the host RNG's draws, so a
     * run is reproducible from the sampler seed). temperature <= 0 is greedy; topK <= 0, topP >= 1
     * and minP <= 0 disable those filters. logprobMode: 0 processed, 1 temperature, 2 raw (as
     * backend.TokenSampler). Semantics of backend.TokenSampler (top-k, then top-p, then min-p).
     */
    public void sample(DeviceBuffer out, DeviceBuffer logprob, DeviceBuffer logits, DeviceBuffer uniforms, int N, int V,
                       float temperature, int topK, float topP, float minP, int logprobMode) {
        if (logprobMode < 0 || logprobMode > 2) throw new IllegalArgumentException("sample: logprobMode must be 0, 1 or 2, got " + logprobMode);
        dev.launch(Kernel.SAMPLE_TOP_K_TOP_P, N, 1, 1, THREADS, 0, out, logprob, logits, uniforms, N, V, temperature, topK, topP,
                minP, logprobMode);
    }

    /** cache [B, maxT, rowSize]: rows [B, Tnew, rowSize] written at positions start[b] .. start[b]+Tnew-1 (start: device ints). */
    public void kvAppend(DeviceBuffer cache, DeviceBuffer rows, DeviceBuffer start, int B, int Tnew, int maxT, int rowSize) {
        dev.launch(Kernel.KV_APPEND, Tnew, B, 1, rowThreads(rowSize), 0, cache, rows, start, B, Tnew, maxT, rowSize);
    }

    /** dst[i] = src[idx[i]] over per-sequence slabs of slabSize floats (idx: device ints [nOut]). */
    public void kvGather(DeviceBuffer dst, DeviceBuffer src, DeviceBuffer idx, int nOut, long slabSize) {
        dev.launch(Kernel.KV_GATHER, nOut, 1, 1, THREADS, 0, dst, src, idx, nOut, slabSize);
    }
}

package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.device.BinaryOp;
import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.UnaryOp;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.backend.device.ElementType;
import io.r1kit.model.backend.device.Transfers;

import java.util.function.Supplier;

/**
 * The device-resident {@link DeviceBackend} of one CUDA device: every op is the {@link CudaOps}
 * method of the same name (cuBLAS GEMMs in the {@link CudaBackend}'s precision, the .cu kernels),
 * with no host copy; host↔device copies happen only in the transfer methods and are counted.
 * The four reductions CudaOps has no kernel for (bias add and its gradient, a scaled sum into a
 * device scalar and its broadcast backward) are fp32 rank-1 cuBLAS GEMMs against a ones vector,
 * so they never round to bf16 and need no new kernel.
 *
 * <p>Not yet run on a GPU (this machine has none). Checked without one: its non-cuBLAS ops run the
 * real kernel sources through the g++ host emulation against
 * {@link io.r1kit.model.backend.device.EmulatedDevice} (CudaDeviceBackendEmulatedTest), and the
 * training step's call sequence runs on EmulatedDevice. Methods are synchronized
 * (one stream, one cuBLAS handle); do not run ops of this and of the host-array
 * {@link CudaBackend} of the same device concurrently from different threads.
 */
public final class CudaDeviceBackend implements DeviceBackend {
    private final String name;
    private final DeviceApi dev;
    private final CudaDevice cuda;    // the real device (null on a test device: no stats or timing)
    private final CudaOps ops;
    private final Supplier<CudaOps.GemmPrecision> precision;
    private final Transfers transfers = new Transfers();
    private DeviceBuffer ones;        // >= onesLength floats of 1.0 (grown on demand)
    private long onesLength;

    /** The device-resident ops of {@code backend}'s device, GEMMs in its (current) precision. */
    public CudaDeviceBackend(CudaBackend backend) {
        this(backend.name(), backend.device(), backend.device(), backend.ops(), backend::gemmPrecision);
    }

    /** On any {@link DeviceApi} (tests: the g++ host emulation of the kernels). */
    CudaDeviceBackend(String name, DeviceApi dev, CudaDevice cuda, CudaOps ops, Supplier<CudaOps.GemmPrecision> precision) {
        this.name = name;
        this.dev = dev;
        this.cuda = cuda;
        this.ops = ops;
        this.precision = precision;
    }

    @Override public String name() { return name; }

    @Override public Transfers transfers() { return transfers; }

    public CudaDevice device() { return real(); }

    private CudaDevice real() {
        if (cuda == null) throw new IllegalStateException(name + " is not a CUDA device (no statistics or timing)");
        return cuda;
    }

    /** The allocator's statistics (in use, peak, cached, reserved, device allocations, cache hits). */
    public synchronized CachingAllocator.Stats memoryStats() { return real().memoryStats(); }

    public synchronized void resetPeakMemory() { real().resetPeakMemory(); }

    /** Device time in ms of the work {@code work} enqueues (CUDA events on the stream; the work may call this backend). */
    public float timeMs(Runnable work) {
        synchronized (this) {
            dev.makeCurrent();
        }
        return real().timeMs(work);
    }

    /** Waits until everything enqueued has run. */
    public synchronized void synchronize() {
        dev.makeCurrent();
        real().synchronize();
    }

    /**
     * C[M,N] (F32) = alpha op(A16) op(B16) + beta C with BF16 operands already on the device (the
     * tensor-core GEMM itself, without the per-call fp32→bf16 cast of {@link #gemm}).
     */
    public synchronized void gemmBf16(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceArray A16,
                                      DeviceArray B16, float beta, DeviceArray C) {
        gemmBf16(transA, transB, 1, M, N, K, alpha, A16, 0, 0, B16, 0, 0, beta, C, 0, 0);
    }

    @Override public synchronized void gemmBf16(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                                                DeviceArray A16, long aOff, long strideA, DeviceArray B16, long bOff,
                                                long strideB, float beta, DeviceArray C, long cOff, long strideC) {
        ops().gemmBf16(transA, transB, batch, M, N, K, alpha, b(A16, "A16", ElementType.BF16), aOff, strideA,
                b(B16, "B16", ElementType.BF16), bOff, strideB, beta, f(C, "C"), cOff, strideC);
    }

    // ------------------------------------------------------------------ helpers

    private DeviceBuffer b(DeviceArray a, String name, ElementType want) {
        if (a == null) return null;
        if (!(a instanceof CudaArray c) || c.owner != this)
            throw new IllegalArgumentException(name() + ": " + name + " is not an array of this device (" + a + ")");
        if (c.type() != want) throw new IllegalArgumentException(name() + ": " + name + " is " + c.type() + ", expected " + want);
        return c.buf;
    }

    private DeviceBuffer f(DeviceArray a, String name) { return b(a, name, ElementType.F32); }

    private DeviceBuffer i32(DeviceArray a, String name) { return b(a, name, ElementType.I32); }

    private CudaOps ops() {
        dev.makeCurrent();
        return ops;
    }

    /** A buffer of at least n ones (fp32), for the rank-1 GEMM reductions. */
    private DeviceBuffer ones(long n) {
        if (ones == null || onesLength < n) {
            if (ones != null) ones.close();
            onesLength = Math.max(n, 2 * onesLength);
            ones = dev.alloc(onesLength * 4);
            dev.fill32(ones, Float.floatToRawIntBits(1f), onesLength);
        }
        return ones;
    }

    private static final CudaOps.GemmPrecision EXACT = CudaOps.GemmPrecision.FP32;

    // ------------------------------------------------------------------ memory and transfers

    @Override public synchronized DeviceArray alloc(ElementType type, long n) {
        dev.makeCurrent();
        long bytes = Math.max(1, n) * type.bytes;
        DeviceBuffer buf = dev.alloc(bytes);
        dev.zero(buf, bytes);
        return new CudaArray(this, buf, type, n);
    }

    @Override public synchronized void fill(DeviceArray a, float value, long n) {
        dev.makeCurrent();
        dev.fill32(f(a, "fill target"), Float.floatToRawIntBits(value), n);
    }

    @Override public synchronized void write(DeviceArray dst, long dstOff, float[] src, int srcOff, int n, String what) {
        dev.makeCurrent();
        dev.write(f(dst, "write target"), dstOff, src, srcOff, n);
        transfers.record(Transfers.Direction.TO_DEVICE, 4L * n, what);
    }

    @Override public synchronized DeviceArray upload(int[] src, String what) {
        dev.makeCurrent();
        transfers.record(Transfers.Direction.TO_DEVICE, 4L * src.length, what);
        return new CudaArray(this, dev.upload(src, src.length), ElementType.I32, src.length);
    }

    @Override public synchronized DeviceArray upload(byte[] src, String what) {
        dev.makeCurrent();
        transfers.record(Transfers.Direction.TO_DEVICE, src.length, what);
        return new CudaArray(this, dev.upload(src, src.length), ElementType.U8, src.length);
    }

    @Override public synchronized void read(DeviceArray src, long srcOff, float[] dst, int dstOff, int n, String what) {
        dev.makeCurrent();
        dev.download(f(src, "read source"), srcOff, dst, dstOff, n);
        transfers.record(Transfers.Direction.TO_HOST, 4L * n, what);
    }

    @Override public synchronized double readF64(DeviceArray src, String what) {
        dev.makeCurrent();
        double[] v = new double[1];
        dev.download(b(src, "readF64 source", ElementType.F64), v, 1);
        transfers.record(Transfers.Direction.TO_HOST, 8, what);
        return v[0];
    }

    @Override public synchronized void readInts(DeviceArray src, int[] dst, int n, String what) {
        dev.makeCurrent();
        float[] bits = new float[n];   // DeviceApi downloads 32-bit words as floats; the raw bits are the ints
        dev.download(i32(src, "readInts source"), 0, bits, 0, n);
        for (int i = 0; i < n; i++) dst[i] = Float.floatToRawIntBits(bits[i]);
        transfers.record(Transfers.Direction.TO_HOST, 4L * n, what);
    }

    // ------------------------------------------------------------------ GEMM

    @Override public synchronized void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceArray A,
                                            long aOff, DeviceArray B, long bOff, float beta, DeviceArray C, long cOff) {
        ops().gemm(transA, transB, M, N, K, alpha, f(A, "A"), aOff, f(B, "B"), bOff, beta, f(C, "C"), cOff, precision.get());
    }

    @Override public synchronized void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                                                   DeviceArray A, long aOff, long strideA, DeviceArray B, long bOff, long strideB,
                                                   float beta, DeviceArray C, long cOff, long strideC) {
        ops().gemmBatched(transA, transB, batch, M, N, K, alpha, f(A, "A"), aOff, strideA, f(B, "B"), bOff, strideB, beta,
                f(C, "C"), cOff, strideC, precision.get());
    }

    // ------------------------------------------------------------------ elementwise and reductions

    @Override public synchronized void add(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        ops().add(f(out, "out"), f(a, "a"), f(b, "b"), n);
    }

    @Override public synchronized void mul(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        ops().mul(f(out, "out"), f(a, "a"), f(b, "b"), n);
    }

    @Override public synchronized void axpy(float alpha, DeviceArray x, DeviceArray y, long n) {
        ops().axpy(alpha, f(x, "x"), f(y, "y"), n);
    }

    @Override public synchronized void copy2d(DeviceArray dst, long dstOff, long dstLd, DeviceArray src, long srcOff, long srcLd,
                                              long rows, long cols, boolean accumulate) {
        ops().copy2d(f(dst, "dst"), dstOff, dstLd, f(src, "src"), srcOff, srcLd, rows, cols, accumulate);
    }

    @Override public synchronized void scale(DeviceArray out, DeviceArray a, float alpha, long n) {
        ops().scale(f(out, "out"), f(a, "a"), alpha, n);
    }

    @Override public synchronized void addRowBroadcast(DeviceArray out, DeviceArray x, DeviceArray bias, int rows, int cols) {
        CudaOps o = ops();
        DeviceBuffer O = f(out, "out");
        o.scale(O, f(x, "x"), 1f, (long) rows * cols);
        // out[rows, cols] += ones[rows, 1] · bias[1, cols]
        o.gemm(false, false, rows, cols, 1, 1f, ones(rows), 0, f(bias, "bias"), 0, 1f, O, 0, EXACT);
    }

    @Override public synchronized void sumRowsInto(DeviceArray dbias, DeviceArray g, int rows, int cols, float alpha) {
        // dbias[1, cols] += alpha · ones[1, rows] · g[rows, cols]
        ops().gemm(false, false, 1, cols, rows, alpha, ones(rows), 0, f(g, "g"), 0, 1f, f(dbias, "dbias"), 0, EXACT);
    }

    @Override public synchronized void sumScaled(DeviceArray out, DeviceArray x, long n, float scale) {
        // out[1, 1] = scale · ones[1, n] · x[n, 1] (fp32 accumulation in cuBLAS)
        ops().gemm(false, false, 1, 1, Math.toIntExact(n), scale, ones(n), 0, f(x, "x"), 0, 0f, f(out, "out"), 0, EXACT);
    }

    @Override public synchronized void addScalarBroadcast(DeviceArray dx, DeviceArray g, long n, float scale) {
        // dx[n, 1] += scale · ones[n, 1] · g[1, 1]
        ops().gemm(false, false, Math.toIntExact(n), 1, 1, scale, ones(n), 0, f(g, "g"), 0, 1f, f(dx, "dx"), 0, EXACT);
    }

    @Override public synchronized void sumInto(DeviceArray x, long n, boolean squares, DeviceArray acc, boolean accumulate) {
        ops().sumInto(f(x, "x"), n, squares, b(acc, "acc", ElementType.F64), accumulate);
    }

    @Override public synchronized void clipByGlobalNorm(DeviceArray g, long n, DeviceArray sumsq, float maxNorm) {
        ops().clipByGlobalNorm(f(g, "g"), n, b(sumsq, "sumsq", ElementType.F64), maxNorm);
    }

    // ------------------------------------------------------------------ transformer blocks

    @Override public synchronized void rmsnormForward(DeviceArray out, DeviceArray rstd, DeviceArray x, DeviceArray w, int N, int C,
                                                      float eps) {
        ops().rmsnormForward(f(out, "out"), f(rstd, "rstd"), f(x, "x"), f(w, "w"), N, C, eps);
    }

    @Override public synchronized void rmsnormBackward(DeviceArray dx, DeviceArray dw, DeviceArray dout, DeviceArray x, DeviceArray w,
                                                       DeviceArray rstd, int N, int C) {
        ops().rmsnormBackward(f(dx, "dx"), f(dw, "dw"), f(dout, "dout"), f(x, "x"), f(w, "w"), f(rstd, "rstd"), N, C);
    }

    @Override public synchronized void rope(DeviceArray out, DeviceArray x, DeviceArray pos, DeviceArray cos, DeviceArray sin, int R,
                                            int H, int D, boolean inverse) {
        ops().rope(f(out, "out"), f(x, "x"), i32(pos, "pos"), f(cos, "cos"), f(sin, "sin"), R, H, D, inverse);
    }

    @Override public synchronized void swigluForward(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        ops().swigluForward(f(out, "out"), f(a, "a"), f(b, "b"), n);
    }

    @Override public synchronized void swigluBackward(DeviceArray da, DeviceArray db, DeviceArray dout, DeviceArray a, DeviceArray b,
                                                      long n) {
        ops().swigluBackward(f(da, "da"), f(db, "db"), f(dout, "dout"), f(a, "a"), f(b, "b"), n);
    }

    @Override public synchronized void attentionForward(DeviceArray out, DeviceArray lse, DeviceArray q, DeviceArray k, DeviceArray v,
                                                        DeviceArray keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D,
                                                        int qStart, float scale) {
        ops().attentionForward(f(out, "out"), f(lse, "lse"), f(q, "q"), f(k, "k"), f(v, "v"), b(keyMask, "keyMask", ElementType.U8),
                B, Tq, Tk, Hq, Hkv, D, qStart, scale);
    }

    @Override public synchronized void attentionBackward(DeviceArray dq, DeviceArray dk, DeviceArray dv, DeviceArray dout,
                                                         DeviceArray q, DeviceArray k, DeviceArray v, DeviceArray out,
                                                         DeviceArray lse, DeviceArray keyMask, int B, int Tq, int Tk, int Hq,
                                                         int Hkv, int D, int qStart, float scale) {
        ops().attentionBackward(f(dq, "dq"), f(dk, "dk"), f(dv, "dv"), f(dout, "dout"), f(q, "q"), f(k, "k"), f(v, "v"),
                f(out, "out"), f(lse, "lse"), b(keyMask, "keyMask", ElementType.U8), B, Tq, Tk, Hq, Hkv, D, qStart, scale);
    }

    // ------------------------------------------------------------------ softmax family

    @Override public synchronized void softmaxForward(DeviceArray out, DeviceArray x, int N, int V) {
        ops().softmaxForward(f(out, "out"), f(x, "x"), N, V);
    }

    @Override public synchronized void softmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V) {
        ops().softmaxBackward(f(dx, "dx"), f(dy, "dy"), f(y, "y"), N, V);
    }

    @Override public synchronized void logSoftmaxForward(DeviceArray out, DeviceArray x, int N, int V) {
        ops().logSoftmaxForward(f(out, "out"), f(x, "x"), N, V);
    }

    @Override public synchronized void logSoftmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V) {
        ops().logSoftmaxBackward(f(dx, "dx"), f(dy, "dy"), f(y, "y"), N, V);
    }

    @Override public synchronized void tokenLogProbsForward(DeviceArray out, DeviceArray lse, DeviceArray logits, DeviceArray target,
                                                            int N, int V) {
        ops().tokenLogProbsForward(f(out, "out"), f(lse, "lse"), f(logits, "logits"), i32(target, "target"), N, V);
    }

    @Override public synchronized void tokenLogProbsBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits,
                                                             DeviceArray lse, DeviceArray target, int N, int V) {
        ops().tokenLogProbsBackward(f(dlogits, "dlogits"), f(dout, "dout"), f(logits, "logits"), f(lse, "lse"),
                i32(target, "target"), N, V);
    }

    @Override public synchronized void entropyForward(DeviceArray out, DeviceArray lse, DeviceArray logits, int N, int V) {
        ops().entropyForward(f(out, "out"), f(lse, "lse"), f(logits, "logits"), N, V);
    }

    @Override public synchronized void entropyBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits, DeviceArray lse,
                                                       DeviceArray entropy, int N, int V) {
        ops().entropyBackward(f(dlogits, "dlogits"), f(dout, "dout"), f(logits, "logits"), f(lse, "lse"), f(entropy, "entropy"), N, V);
    }

    // ------------------------------------------------------------------ embedding

    @Override public synchronized void embeddingForward(DeviceArray out, DeviceArray table, DeviceArray ids, int N, int C) {
        ops().embeddingForward(f(out, "out"), f(table, "table"), i32(ids, "ids"), N, C);
    }

    @Override public synchronized void embeddingBackward(DeviceArray dtable, DeviceArray dout, DeviceArray ids, int N, int C) {
        ops().embeddingBackward(f(dtable, "dtable"), f(dout, "dout"), i32(ids, "ids"), N, C);
    }

    // ------------------------------------------------------------------ optimizer and mixed precision

    @Override public synchronized void adamw(DeviceArray p, DeviceArray g, DeviceArray m, DeviceArray v, long n, float lr, float beta1,
                                             float beta2, float eps, float weightDecay, float bc1, float bc2) {
        ops().adamw(f(p, "p"), f(g, "g"), f(m, "m"), f(v, "v"), n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    @Override public synchronized void adamwBf16(DeviceArray p, DeviceArray g16, DeviceArray m, DeviceArray v, DeviceArray p16,
                                                 long n, float lr, float beta1, float beta2, float eps, float weightDecay,
                                                 float bc1, float bc2, float gradScale) {
        ops().adamwBf16(f(p, "p"), b(g16, "g16", ElementType.BF16), f(m, "m"), f(v, "v"), b(p16, "p16", ElementType.BF16), n, lr,
                beta1, beta2, eps, weightDecay, bc1, bc2, gradScale);
    }

    @Override public synchronized DeviceArray castToBf16(DeviceArray x, long off, long n) {
        return new CudaArray(this, ops().castToBf16(f(x, "x"), off, n), ElementType.BF16, n);
    }

    @Override public synchronized void bf16ToF32(DeviceArray out, DeviceArray in16, long n) {
        ops().bf16ToF32(f(out, "out"), b(in16, "in16", ElementType.BF16), n);
    }

    // ------------------------------------------------------------------ decoding

    @Override public synchronized void fillI32(DeviceArray a, int value, long n) {
        dev.makeCurrent();
        dev.fill32(i32(a, "fillI32 target"), value, n);
    }

    @Override public synchronized void kvAppend(DeviceArray cache, DeviceArray rows, DeviceArray start, int B, int Tnew, int maxT,
                                                int rowSize) {
        ops().kvAppend(f(cache, "cache"), f(rows, "rows"), i32(start, "start"), B, Tnew, maxT, rowSize);
    }

    @Override public synchronized void kvGather(DeviceArray dst, DeviceArray src, DeviceArray idx, int nOut, long slabSize) {
        ops().kvGather(f(dst, "dst"), f(src, "src"), i32(idx, "idx"), nOut, slabSize);
    }

    @Override public synchronized void sample(DeviceArray out, DeviceArray logprob, DeviceArray logits, DeviceArray uniforms, int N,
                                              int V, float temperature, int topK, float topP, float minP, int logprobMode) {
        ops().sample(i32(out, "out"), f(logprob, "logprob"), f(logits, "logits"), f(uniforms, "uniforms"), N, V, temperature, topK,
                topP, minP, logprobMode);
    }

    // ------------------------------------------------------------------ loss ops (loss.cu)

    private DeviceBuffer fOrNull(DeviceArray a, String name) { return a == null ? null : f(a, name); }

    @Override public synchronized void unary(UnaryOp op, DeviceArray out, DeviceArray x, long n, float p, float q) {
        ops().unary(op.ordinal(), f(out, "out"), f(x, "x"), n, p, q);
    }

    @Override public synchronized void unaryBackward(UnaryOp op, DeviceArray dx, DeviceArray g, DeviceArray x, DeviceArray y, long n,
                                                     float p, float q) {
        ops().unaryBackward(op.ordinal(), f(dx, "dx"), f(g, "g"), f(x, "x"), f(y, "y"), n, p, q);
    }

    @Override public synchronized void binary(BinaryOp op, DeviceArray out, DeviceArray a, DeviceArray b, int[] shape, int[] strideA,
                                              int[] strideB) {
        ops().binary(op.ordinal(), f(out, "out"), f(a, "a"), f(b, "b"), shape, strideA, strideB);
    }

    @Override public synchronized void binaryBackward(BinaryOp op, DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray a,
                                                      DeviceArray b, int[] shape, int[] strideA, int[] strideB) {
        ops().binaryBackward(op.ordinal(), fOrNull(da, "da"), fOrNull(db, "db"), f(g, "g"), f(a, "a"), f(b, "b"), shape, strideA, strideB);
    }

    @Override public synchronized void where(DeviceArray out, DeviceArray cond, DeviceArray a, DeviceArray b, int[] shape,
                                             int[] strideC, int[] strideA, int[] strideB) {
        ops().where(f(out, "out"), f(cond, "cond"), f(a, "a"), f(b, "b"), shape, strideC, strideA, strideB);
    }

    @Override public synchronized void whereBackward(DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray cond, int[] shape,
                                                     int[] strideC, int[] strideA, int[] strideB) {
        ops().whereBackward(fOrNull(da, "da"), fOrNull(db, "db"), f(g, "g"), f(cond, "cond"), shape, strideC, strideA, strideB);
    }

    @Override public synchronized void maskedReduce(DeviceArray out, DeviceArray x, DeviceArray mask, int outer, int n, int inner,
                                                    boolean mean) {
        ops().maskedReduce(f(out, "out"), f(x, "x"), fOrNull(mask, "mask"), outer, n, inner, mean);
    }

    @Override public synchronized void maskedReduceBackward(DeviceArray dx, DeviceArray g, DeviceArray mask, int outer, int n,
                                                            int inner, boolean mean) {
        ops().maskedReduceBackward(f(dx, "dx"), f(g, "g"), fOrNull(mask, "mask"), outer, n, inner, mean);
    }
}

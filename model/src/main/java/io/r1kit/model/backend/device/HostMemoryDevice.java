package io.r1kit.model.backend.device;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.TokenSampler;
import io.r1kit.model.hf.FloatFormats;

import java.util.Arrays;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * A {@link DeviceBackend} whose memory is host arrays ({@link HostArray}) and whose kernels are a
 * host {@link Backend}'s: each method unpacks its arrays and calls the {@code Backend} kernel of
 * the same name (or, for the loss ops, the host formulas of {@link UnaryOp} / {@link BinaryOp}),
 * so it computes exactly what those kernels compute. The two devices built on it are
 * {@link HostDevice} (the host itself: host tensors' ops run here) and {@link EmulatedDevice}
 * (a pretend GPU that counts every copy). Thread-safe as the kernels are: it holds no state of its own.
 */
public abstract class HostMemoryDevice implements DeviceBackend {
    private final Supplier<Backend> kernels;

    /** {@code kernels} is asked for the kernel set at every call (so a switched current backend takes effect). */
    protected HostMemoryDevice(Supplier<Backend> kernels) {
        this.kernels = kernels;
    }

    /** The kernels to run now. */
    protected final Backend kernels() { return kernels.get(); }

    /** Called for every host↔device copy (write, upload, read): the emulated device counts them, the host does not. */
    protected abstract void transferred(Transfers.Direction direction, long bytes, String what);

    /** Called for every allocation. */
    protected void allocated() {}

    /** An array of this device over {@code values} (no copy). */
    protected final DeviceArray wrap(float[] values) {
        return new HostArray(this, values);
    }

    /** The F32 host array behind an array of this device (the live storage, not a copy). */
    protected final float[] values(DeviceArray a, String what) {
        return f(a, what);
    }

    // ------------------------------------------------------------------ access checks

    private HostArray arr(DeviceArray a, String name, ElementType want) {
        if (!(a instanceof HostArray h) || h.owner != this)
            throw new IllegalArgumentException(name() + ": " + name + " is not an array of this device (" + a + ")");
        if (h.closed()) throw new IllegalStateException(name() + ": " + name + " was used after close");
        if (h.type != want) throw new IllegalArgumentException(name() + ": " + name + " is " + h.type + ", expected " + want);
        return h;
    }

    private float[] f(DeviceArray a, String name) { return arr(a, name, ElementType.F32).f; }

    private int[] ints(DeviceArray a, String name) { return arr(a, name, ElementType.I32).i; }

    private byte[] mask(DeviceArray a) { return a == null ? null : arr(a, "keyMask", ElementType.U8).b; }

    private static int n(long n) { return Math.toIntExact(n); }

    // ------------------------------------------------------------------ memory and transfers

    @Override public DeviceArray alloc(ElementType type, long n) {
        allocated();
        return new HostArray(this, type, n);
    }

    @Override public void fill(DeviceArray a, float value, long n) { Arrays.fill(f(a, "fill target"), 0, n(n), value); }

    @Override public void write(DeviceArray dst, long dstOff, float[] src, int srcOff, int n, String what) {
        System.arraycopy(src, srcOff, f(dst, "write target"), n(dstOff), n);
        transferred(Transfers.Direction.TO_DEVICE, 4L * n, what);
    }

    @Override public DeviceArray upload(int[] src, String what) {
        HostArray a = (HostArray) alloc(ElementType.I32, src.length);
        System.arraycopy(src, 0, a.i, 0, src.length);
        transferred(Transfers.Direction.TO_DEVICE, 4L * src.length, what);
        return a;
    }

    @Override public DeviceArray upload(byte[] src, String what) {
        HostArray a = (HostArray) alloc(ElementType.U8, src.length);
        System.arraycopy(src, 0, a.b, 0, src.length);
        transferred(Transfers.Direction.TO_DEVICE, src.length, what);
        return a;
    }

    @Override public void read(DeviceArray src, long srcOff, float[] dst, int dstOff, int n, String what) {
        System.arraycopy(f(src, "read source"), n(srcOff), dst, dstOff, n);
        transferred(Transfers.Direction.TO_HOST, 4L * n, what);
    }

    @Override public double readF64(DeviceArray src, String what) {
        double v = arr(src, "readF64 source", ElementType.F64).d[0];
        transferred(Transfers.Direction.TO_HOST, 8, what);
        return v;
    }

    @Override public void readInts(DeviceArray src, int[] dst, int n, String what) {
        System.arraycopy(ints(src, "readInts source"), 0, dst, 0, n);
        transferred(Transfers.Direction.TO_HOST, 4L * n, what);
    }

    // ------------------------------------------------------------------ GEMM

    @Override public void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceArray A, long aOff,
                               DeviceArray B, long bOff, float beta, DeviceArray C, long cOff) {
        kernels().gemm(transA, transB, M, N, K, alpha, f(A, "A"), n(aOff), f(B, "B"), n(bOff), beta, f(C, "C"), n(cOff));
    }

    @Override public void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                                      DeviceArray A, long aOff, long strideA, DeviceArray B, long bOff, long strideB,
                                      float beta, DeviceArray C, long cOff, long strideC) {
        kernels().gemmBatched(transA, transB, batch, M, N, K, alpha, f(A, "A"), n(aOff), n(strideA), f(B, "B"), n(bOff),
                n(strideB), beta, f(C, "C"), n(cOff), n(strideC));
    }

    /**
     * The bf16 GEMM's numerics: the operands are bf16 values (exact in fp32), products and sums in fp32
     * by the host kernel, so this predicts cuBLAS's CUBLAS_COMPUTE_32F result up to summation order.
     */
    @Override public void gemmBf16(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                                   DeviceArray A16, long aOff, long strideA, DeviceArray B16, long bOff, long strideB,
                                   float beta, DeviceArray C, long cOff, long strideC) {
        float[] a = widen(arr(A16, "A16", ElementType.BF16).h), b = widen(arr(B16, "B16", ElementType.BF16).h);
        kernels().gemmBatched(transA, transB, batch, M, N, K, alpha, a, n(aOff), n(strideA), b, n(bOff), n(strideB), beta,
                f(C, "C"), n(cOff), n(strideC));
    }

    private static float[] widen(short[] h) {
        float[] out = new float[h.length];
        for (int i = 0; i < h.length; i++) out[i] = FloatFormats.bf16ToFloat(h[i]);
        return out;
    }

    // ------------------------------------------------------------------ elementwise

    @Override public void add(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        kernels().add(f(out, "out"), 0, f(a, "a"), 0, f(b, "b"), 0, n(n));
    }

    @Override public void mul(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        kernels().mul(f(out, "out"), 0, f(a, "a"), 0, f(b, "b"), 0, n(n));
    }

    @Override public void axpy(float alpha, DeviceArray x, DeviceArray y, long n) {
        kernels().axpy(alpha, f(x, "x"), 0, f(y, "y"), 0, n(n));
    }

    @Override public void scale(DeviceArray out, DeviceArray a, float alpha, long n) {
        kernels().scale(f(out, "out"), 0, f(a, "a"), 0, alpha, n(n));
    }

    @Override public void copy2d(DeviceArray dst, long dstOff, long dstLd, DeviceArray src, long srcOff, long srcLd, long rows,
                                 long cols, boolean accumulate) {
        float[] d = f(dst, "dst"), s = f(src, "src");
        int c = n(cols);
        for (long r = 0; r < rows; r++) {
            int di = n(dstOff + r * dstLd), si = n(srcOff + r * srcLd);
            if (accumulate) for (int j = 0; j < c; j++) d[di + j] += s[si + j];
            else System.arraycopy(s, si, d, di, c);
        }
    }

    @Override public void addRowBroadcast(DeviceArray out, DeviceArray x, DeviceArray bias, int rows, int cols) {
        float[] o = f(out, "out"), xs = f(x, "x"), b = f(bias, "bias");
        for (int r = 0; r < rows; r++) kernels().add(o, r * cols, xs, r * cols, b, 0, cols);   // as Broadcast's bias path
    }

    @Override public void sumRowsInto(DeviceArray dbias, DeviceArray g, int rows, int cols, float alpha) {
        float[] db = f(dbias, "dbias"), gs = f(g, "g");
        for (int r = 0; r < rows; r++) kernels().axpy(alpha, gs, r * cols, db, 0, cols);
    }

    @Override public void sumScaled(DeviceArray out, DeviceArray x, long n, float scale) {
        double s = kernels().sum(f(x, "x"), 0, n(n));
        f(out, "out")[0] = (float) (s * scale);
    }

    @Override public void addScalarBroadcast(DeviceArray dx, DeviceArray g, long n, float scale) {
        float v = f(g, "g")[0] * scale;
        float[] d = f(dx, "dx");
        for (int i = 0; i < n; i++) d[i] += v;
    }

    @Override public void sumInto(DeviceArray x, long n, boolean squares, DeviceArray acc, boolean accumulate) {
        float[] xs = f(x, "x");
        double s = squares ? kernels().sumSquares(xs, 0, n(n)) : kernels().sum(xs, 0, n(n));
        double[] a = arr(acc, "acc", ElementType.F64).d;
        a[0] = accumulate ? a[0] + s : s;
    }

    @Override public void clipByGlobalNorm(DeviceArray g, long n, DeviceArray sumsq, float maxNorm) {
        // exactly clip_scale_f32's float arithmetic: only ever shrinks; a NaN norm scales by NaN
        float norm = (float) Math.sqrt(arr(sumsq, "sumsq", ElementType.F64).d[0]);
        float coef = maxNorm / (norm + 1e-6f);
        if (!(coef >= 1f)) kernels().scale(f(g, "g"), 0, f(g, "g"), 0, coef, n(n));
    }

    // ------------------------------------------------------------------ transformer blocks

    @Override public void rmsnormForward(DeviceArray out, DeviceArray rstd, DeviceArray x, DeviceArray w, int N, int C, float eps) {
        kernels().rmsnormForward(f(out, "out"), f(rstd, "rstd"), f(x, "x"), f(w, "w"), N, C, eps);
    }

    @Override public void rmsnormBackward(DeviceArray dx, DeviceArray dw, DeviceArray dout, DeviceArray x, DeviceArray w,
                                          DeviceArray rstd, int N, int C) {
        kernels().rmsnormBackward(f(dx, "dx"), f(dw, "dw"), f(dout, "dout"), f(x, "x"), f(w, "w"), f(rstd, "rstd"), N, C);
    }

    @Override public void rope(DeviceArray out, DeviceArray x, DeviceArray pos, DeviceArray cos, DeviceArray sin, int R, int H,
                               int D, boolean inverse) {
        kernels().rope(f(out, "out"), f(x, "x"), ints(pos, "pos"), f(cos, "cos"), f(sin, "sin"), R, H, D, inverse);
    }

    @Override public void swigluForward(DeviceArray out, DeviceArray a, DeviceArray b, long n) {
        kernels().swigluForward(f(out, "out"), f(a, "a"), f(b, "b"), n(n));
    }

    @Override public void swigluBackward(DeviceArray da, DeviceArray db, DeviceArray dout, DeviceArray a, DeviceArray b, long n) {
        kernels().swigluBackward(f(da, "da"), f(db, "db"), f(dout, "dout"), f(a, "a"), f(b, "b"), n(n));
    }

    @Override public void attentionForward(DeviceArray out, DeviceArray lse, DeviceArray q, DeviceArray k, DeviceArray v,
                                           DeviceArray keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart,
                                           float scale) {
        kernels().attentionForward(f(out, "out"), f(lse, "lse"), f(q, "q"), f(k, "k"), f(v, "v"), mask(keyMask), B, Tq, Tk, Hq,
                Hkv, D, qStart, scale);
    }

    @Override public void attentionBackward(DeviceArray dq, DeviceArray dk, DeviceArray dv, DeviceArray dout, DeviceArray q,
                                            DeviceArray k, DeviceArray v, DeviceArray out, DeviceArray lse, DeviceArray keyMask,
                                            int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        kernels().attentionBackward(f(dq, "dq"), f(dk, "dk"), f(dv, "dv"), f(dout, "dout"), f(q, "q"), f(k, "k"), f(v, "v"),
                f(out, "out"), f(lse, "lse"), mask(keyMask), B, Tq, Tk, Hq, Hkv, D, qStart, scale);
    }

    // ------------------------------------------------------------------ softmax family

    @Override public void softmaxForward(DeviceArray out, DeviceArray x, int N, int V) {
        kernels().softmaxForward(f(out, "out"), f(x, "x"), N, V);
    }

    @Override public void softmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V) {
        kernels().softmaxBackward(f(dx, "dx"), f(dy, "dy"), f(y, "y"), N, V);
    }

    @Override public void logSoftmaxForward(DeviceArray out, DeviceArray x, int N, int V) {
        kernels().logSoftmaxForward(f(out, "out"), f(x, "x"), N, V);
    }

    @Override public void logSoftmaxBackward(DeviceArray dx, DeviceArray dy, DeviceArray y, int N, int V) {
        kernels().logSoftmaxBackward(f(dx, "dx"), f(dy, "dy"), f(y, "y"), N, V);
    }

    @Override public void tokenLogProbsForward(DeviceArray out, DeviceArray lse, DeviceArray logits, DeviceArray target, int N,
                                               int V) {
        kernels().tokenLogProbsForward(f(out, "out"), f(lse, "lse"), f(logits, "logits"), ints(target, "target"), N, V);
    }

    @Override public void tokenLogProbsBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits, DeviceArray lse,
                                                DeviceArray target, int N, int V) {
        kernels().tokenLogProbsBackward(f(dlogits, "dlogits"), f(dout, "dout"), f(logits, "logits"), f(lse, "lse"),
                ints(target, "target"), N, V);
    }

    @Override public void entropyForward(DeviceArray out, DeviceArray lse, DeviceArray logits, int N, int V) {
        kernels().entropyForward(f(out, "out"), f(lse, "lse"), f(logits, "logits"), N, V);
    }

    @Override public void entropyBackward(DeviceArray dlogits, DeviceArray dout, DeviceArray logits, DeviceArray lse,
                                          DeviceArray entropy, int N, int V) {
        kernels().entropyBackward(f(dlogits, "dlogits"), f(dout, "dout"), f(logits, "logits"), f(lse, "lse"),
                f(entropy, "entropy"), N, V);
    }

    // ------------------------------------------------------------------ loss ops (the host formulas of UnaryOp / BinaryOp / ops.Reductions)

    @Override public void unary(UnaryOp op, DeviceArray out, DeviceArray x, long n, float p, float q) {
        op.forward(f(x, "x"), f(out, "out"), n(n), p, q);
    }

    @Override public void unaryBackward(UnaryOp op, DeviceArray dx, DeviceArray g, DeviceArray x, DeviceArray y, long n, float p,
                                        float q) {
        op.backward(f(g, "g"), f(x, "x"), f(y, "y"), f(dx, "dx"), n(n), p, q);
    }

    /** Element offset of output index i in an operand read through {@code stride} over {@code shape}. */
    private static int at(int i, int[] shape, int[] stride) {
        int off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (i % shape[d]) * stride[d];
            i /= shape[d];
        }
        return off;
    }

    private static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    @Override public void binary(BinaryOp op, DeviceArray out, DeviceArray a, DeviceArray b, int[] shape, int[] strideA,
                                 int[] strideB) {
        float[] o = f(out, "out"), as = f(a, "a"), bs = f(b, "b");
        for (int i = 0, n = numel(shape); i < n; i++) o[i] = op.apply(as[at(i, shape, strideA)], bs[at(i, shape, strideB)]);
    }

    @Override public void binaryBackward(BinaryOp op, DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray a, DeviceArray b,
                                         int[] shape, int[] strideA, int[] strideB) {
        float[] gs = f(g, "g"), as = f(a, "a"), bs = f(b, "b");
        int n = numel(shape);
        if (da != null) {
            float[] d = f(da, "da");
            for (int i = 0; i < n; i++) {
                int ja = at(i, shape, strideA);
                d[ja] += op.gradA(gs[i], as[ja], bs[at(i, shape, strideB)]);
            }
        }
        if (db != null) {
            float[] d = f(db, "db");
            for (int i = 0; i < n; i++) {
                int jb = at(i, shape, strideB);
                d[jb] += op.gradB(gs[i], as[at(i, shape, strideA)], bs[jb]);
            }
        }
    }

    @Override public void where(DeviceArray out, DeviceArray cond, DeviceArray a, DeviceArray b, int[] shape, int[] strideC,
                                int[] strideA, int[] strideB) {
        float[] o = f(out, "out"), c = f(cond, "cond"), as = f(a, "a"), bs = f(b, "b");
        for (int i = 0, n = numel(shape); i < n; i++)
            o[i] = c[at(i, shape, strideC)] != 0f ? as[at(i, shape, strideA)] : bs[at(i, shape, strideB)];
    }

    @Override public void whereBackward(DeviceArray da, DeviceArray db, DeviceArray g, DeviceArray cond, int[] shape, int[] strideC,
                                        int[] strideA, int[] strideB) {
        float[] gs = f(g, "g"), c = f(cond, "cond");
        float[] dA = da == null ? null : f(da, "da"), dB = db == null ? null : f(db, "db");
        for (int i = 0, n = numel(shape); i < n; i++) {
            if (c[at(i, shape, strideC)] != 0f) { if (dA != null) dA[at(i, shape, strideA)] += gs[i]; }
            else if (dB != null) dB[at(i, shape, strideB)] += gs[i];
        }
    }

    /** The row scale of {@link #maskedReduce}: 1, 1/n, or 1/Σ mask (0 for an empty row), in double. */
    private static double rowScale(float[] m, int o, int n, int inner, int i, boolean mean) {
        if (!mean) return 1.0;
        if (m == null) return 1.0 / n;
        double den = 0;
        for (int j = 0; j < n; j++) den += m[(o * n + j) * inner + i];
        return den == 0 ? 0.0 : 1.0 / den;
    }

    @Override public void maskedReduce(DeviceArray out, DeviceArray x, DeviceArray mask, int outer, int n, int inner, boolean mean) {
        float[] o = f(out, "out"), xs = f(x, "x"), m = mask == null ? null : f(mask, "mask");
        for (int a = 0; a < outer; a++)
            for (int i = 0; i < inner; i++) {
                double acc = 0;
                for (int j = 0; j < n; j++) {
                    int k = (a * n + j) * inner + i;
                    if (m == null) acc += xs[k];
                    else if (m[k] != 0f) acc += (double) xs[k] * m[k];
                }
                o[a * inner + i] = (float) (acc * rowScale(m, a, n, inner, i, mean));
            }
    }

    @Override public void maskedReduceBackward(DeviceArray dx, DeviceArray g, DeviceArray mask, int outer, int n, int inner,
                                               boolean mean) {
        float[] d = f(dx, "dx"), gs = f(g, "g"), m = mask == null ? null : f(mask, "mask");
        for (int a = 0; a < outer; a++)
            for (int i = 0; i < inner; i++) {
                int r = a * inner + i;
                double sc = rowScale(m, a, n, inner, i, mean);
                float scf = (float) sc;
                for (int j = 0; j < n; j++) {
                    int k = (a * n + j) * inner + i;
                    if (m == null) d[k] += gs[r] * scf;                          // as the host's sum(dim) backward
                    else if (m[k] != 0f) d[k] += (float) (gs[r] * sc * m[k]);   // as the host's masked backward
                }
            }
    }

    // ------------------------------------------------------------------ embedding

    @Override public void embeddingForward(DeviceArray out, DeviceArray table, DeviceArray ids, int N, int C) {
        kernels().embeddingForward(f(out, "out"), f(table, "table"), ints(ids, "ids"), N, C);
    }

    @Override public void embeddingBackward(DeviceArray dtable, DeviceArray dout, DeviceArray ids, int N, int C) {
        kernels().embeddingBackward(f(dtable, "dtable"), f(dout, "dout"), ints(ids, "ids"), N, C);
    }

    // ------------------------------------------------------------------ optimizer and mixed precision

    @Override public void adamw(DeviceArray p, DeviceArray g, DeviceArray m, DeviceArray v, long n, float lr, float beta1,
                                float beta2, float eps, float weightDecay, float bc1, float bc2) {
        kernels().adamw(f(p, "p"), f(g, "g"), f(m, "m"), f(v, "v"), n(n), lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    @Override public void adamwBf16(DeviceArray p, DeviceArray g16, DeviceArray m, DeviceArray v, DeviceArray p16, long n,
                                    float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2,
                                    float gradScale) {
        short[] g = arr(g16, "g16", ElementType.BF16).h, out16 = arr(p16, "p16", ElementType.BF16).h;
        float[] ps = f(p, "p"), g32 = new float[n(n)];
        for (int i = 0; i < g32.length; i++) g32[i] = FloatFormats.bf16ToFloat(g[i]) * gradScale;   // as adamw_bf16
        kernels().adamw(ps, g32, f(m, "m"), f(v, "v"), n(n), lr, beta1, beta2, eps, weightDecay, bc1, bc2);
        for (int i = 0; i < g32.length; i++) out16[i] = FloatFormats.floatToBf16(ps[i]);
    }

    @Override public DeviceArray castToBf16(DeviceArray x, long off, long n) {
        float[] xs = f(x, "x");
        HostArray out = (HostArray) alloc(ElementType.BF16, n);
        for (int i = 0; i < n; i++) out.h[i] = FloatFormats.floatToBf16(xs[n(off) + i]);
        return out;
    }

    @Override public void bf16ToF32(DeviceArray out, DeviceArray in16, long n) {
        float[] o = f(out, "out");
        short[] h = arr(in16, "in16", ElementType.BF16).h;
        for (int i = 0; i < n; i++) o[i] = FloatFormats.bf16ToFloat(h[i]);
    }

    // ------------------------------------------------------------------ decoding

    @Override public void fillI32(DeviceArray a, int value, long n) { Arrays.fill(ints(a, "fillI32 target"), 0, n(n), value); }

    @Override public void kvAppend(DeviceArray cache, DeviceArray rows, DeviceArray start, int B, int Tnew, int maxT, int rowSize) {
        float[] c = f(cache, "cache"), r = f(rows, "rows");
        int[] s = ints(start, "start");
        for (int b = 0; b < B; b++) {
            if (s[b] < 0 || s[b] + Tnew > maxT)
                throw new IllegalArgumentException(name() + ": kvAppend row " + b + " slots [" + s[b] + ", " + (s[b] + Tnew) + ") outside [0, " + maxT + ")");
            System.arraycopy(r, b * Tnew * rowSize, c, (b * maxT + s[b]) * rowSize, Tnew * rowSize);
        }
    }

    @Override public void kvGather(DeviceArray dst, DeviceArray src, DeviceArray idx, int nOut, long slabSize) {
        float[] d = f(dst, "dst"), s = f(src, "src");
        int[] ix = ints(idx, "idx");
        int slab = n(slabSize);
        for (int i = 0; i < nOut; i++) System.arraycopy(s, ix[i] * slab, d, i * slab, slab);
    }

    /** The CPU sampling kernel ({@link TokenSampler}) itself, fed the given uniform as its rng draw: the same token as CPU generation. */
    @Override public void sample(DeviceArray out, DeviceArray logprob, DeviceArray logits, DeviceArray uniforms, int N, int V,
                                 float temperature, int topK, float topP, float minP, int logprobMode) {
        int[] o = ints(out, "out");
        float[] lp = f(logprob, "logprob"), lg = f(logits, "logits"), u = f(uniforms, "uniforms");
        TokenSampler sampler = new TokenSampler(V);
        for (int r = 0; r < N; r++) o[r] = sampler.sample(lg, r * V, temperature, topK, topP, minP, logprobMode, new FixedUniform(u[r]), lp, r);
    }

    /** A "random" generator whose only draw is a given uniform (what the device kernel receives). */
    private record FixedUniform(double u) implements RandomGenerator {
        @Override public double nextDouble() { return u; }

        @Override public long nextLong() { throw new UnsupportedOperationException("sample: only nextDouble is drawn"); }
    }
}

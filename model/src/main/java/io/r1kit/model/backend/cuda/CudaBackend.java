package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.Backend;
import jcuda.Sizeof;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The GPU backend behind the host-array {@link Backend} interface: every call uploads its inputs
 * to the device, runs the cuBLAS GEMM or custom kernel ({@link CudaOps}), and downloads its
 * outputs. That per-call copy is the honest cost of the current interface (which passes
 * {@code float[]}); the device-resident path without it is {@link #ops()} on
 * {@link DeviceBuffer}s, which a device-storage Tensor would call directly (see the README).
 *
 * <p>Precision: GEMM operands are rounded to bf16 on the device and multiplied with fp32
 * accumulation by default ({@code -Dr1kit.cuda.gemm=bf16}); {@code tf32} or {@code fp32} select
 * TF32 tensor cores or full fp32. All other kernels compute in fp32 (reductions in fp32 per row,
 * global sums in double), so AdamW state and master weights stay fp32.
 *
 * <p>Thread safety: methods are synchronized (one stream, one allocator per device) and make the
 * device's context current on the calling thread.
 */
public final class CudaBackend implements Backend {

    public static final String GEMM_PROPERTY = "r1kit.cuda.gemm";

    /**
     * Backend method -> the custom kernels it launches ("cublas" for GEMMs through cuBLAS; the gemm_*
     * kernels when cuBLAS is not loaded). Used by
     * the static coverage check and as documentation; every launch names a {@link Kernel} constant.
     */
    public static final Map<String, List<String>> KERNELS_BY_METHOD = Map.ofEntries(
            Map.entry("gemm", List.of("cublas", "f32_to_bf16", "gemm_f32_simt", "gemm_bf16_mma")),
            Map.entry("gemmBatched", List.of("cublas", "f32_to_bf16", "gemm_f32_simt", "gemm_bf16_mma")),
            Map.entry("add", List.of("add_f32")),
            Map.entry("mul", List.of("mul_f32")),
            Map.entry("axpy", List.of("axpy_f32")),
            Map.entry("scale", List.of("scale_f32")),
            Map.entry("sum", List.of("sum_partials_f32", "sum_finish_f64")),
            Map.entry("sumSquares", List.of("sum_partials_f32", "sum_finish_f64")),
            Map.entry("rmsnormForward", List.of("rmsnorm_fwd")),
            Map.entry("rmsnormBackward", List.of("rmsnorm_bwd_dx", "rmsnorm_bwd_dw")),
            Map.entry("rope", List.of("rope_f32")),
            Map.entry("swigluForward", List.of("swiglu_fwd")),
            Map.entry("swigluBackward", List.of("swiglu_bwd")),
            Map.entry("attentionForward", List.of("attention_fwd")),
            Map.entry("attentionBackward", List.of("attention_bwd_dot", "attention_bwd")),
            Map.entry("softmaxForward", List.of("softmax_fwd")),
            Map.entry("softmaxBackward", List.of("softmax_bwd")),
            Map.entry("logSoftmaxForward", List.of("log_softmax_fwd")),
            Map.entry("logSoftmaxBackward", List.of("log_softmax_bwd")),
            Map.entry("tokenLogProbsForward", List.of("token_logprobs_fwd")),
            Map.entry("tokenLogProbsBackward", List.of("token_logprobs_bwd")),
            Map.entry("entropyForward", List.of("entropy_fwd")),
            Map.entry("entropyBackward", List.of("entropy_bwd")),
            Map.entry("embeddingForward", List.of("embedding_fwd")),
            Map.entry("embeddingBackward", List.of("embedding_bwd")),
            Map.entry("adamw", List.of("adamw_f32")));

    private static final Map<Integer, CudaBackend> OPEN = new HashMap<>();

    /** The backend of CUDA device {@code ordinal} (opened once per process). Throws when CUDA is unavailable. */
    public static synchronized CudaBackend forDevice(int ordinal) {
        return OPEN.computeIfAbsent(ordinal, o -> new CudaBackend(new CudaDevice(o), gemmPrecisionFromProperty()));
    }

    static CudaOps.GemmPrecision gemmPrecisionFromProperty() {
        String p = System.getProperty(GEMM_PROPERTY, "bf16").trim().toUpperCase(Locale.ROOT);
        try {
            return CudaOps.GemmPrecision.valueOf(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + GEMM_PROPERTY + "=" + p.toLowerCase(Locale.ROOT) + " is not one of bf16, tf32, fp32");
        }
    }

    private final CudaDevice dev;
    private final CudaOps ops;
    private volatile CudaOps.GemmPrecision gemmPrecision;

    private CudaBackend(CudaDevice dev, CudaOps.GemmPrecision gemmPrecision) {
        this.dev = dev;
        this.ops = new CudaOps(dev, dev.plan().gemm());
        this.gemmPrecision = gemmPrecision;
    }

    @Override public String name() { return "cuda:" + dev.ordinal; }

    public CudaDevice device() { return dev; }

    /** The device-resident ops (no host copies). */
    public CudaOps ops() { return ops; }

    public CudaOps.GemmPrecision gemmPrecision() { return gemmPrecision; }

    public void setGemmPrecision(CudaOps.GemmPrecision p) { this.gemmPrecision = p; }

    // ------------------------------------------------------------------ host <-> device helpers

    private static void need(String op, String name, float[] a, long off, long n) {
        if (n == 0) return;
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " is null but " + n + " floats are needed");
        if (off < 0 || off + n > a.length) {
            throw new IllegalArgumentException(op + ": " + name + " needs " + n + " floats from offset " + off
                    + " but its array has length " + a.length);
        }
    }

    private static void need(String op, String name, int[] a, long n) {
        if (n == 0) return;
        if (a == null || a.length < n) {
            throw new IllegalArgumentException(op + ": " + name + " needs " + n + " ints but has " + (a == null ? "null" : a.length));
        }
    }

    private static void dims(String op, int... d) {
        for (int x : d) if (x < 0) throw new IllegalArgumentException(op + ": negative dimension in " + java.util.Arrays.toString(d));
    }

    private DeviceBuffer up(float[] a, long off, long n) {
        return dev.upload(a, (int) off, Math.toIntExact(n));
    }

    private DeviceBuffer out(long n) {
        return dev.alloc(Math.max(1, n) * Sizeof.FLOAT);
    }

    private void down(DeviceBuffer b, float[] a, long off, long n) {
        dev.download(b, a, (int) off, Math.toIntExact(n));
    }

    // ------------------------------------------------------------------ GEMM

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha, float[] A, int aOff,
                                  float[] B, int bOff, float beta, float[] C, int cOff) {
        gemmBatched(transA, transB, 1, M, N, K, alpha, A, aOff, 0, B, bOff, 0, beta, C, cOff, 0);
    }

    @Override
    public synchronized void gemmBatched(boolean transA, boolean transB, int batch, int M, int N, int K, float alpha,
                                         float[] A, int aOff, int strideA, float[] B, int bOff, int strideB, float beta,
                                         float[] C, int cOff, int strideC) {
        String op = "gemm";
        dims(op, batch, M, N, K, strideA, strideB, strideC);
        if (batch == 0 || M == 0 || N == 0) return;
        long extA = (long) strideA * (batch - 1) + (long) M * K, extB = (long) strideB * (batch - 1) + (long) K * N;
        long extC = (long) strideC * (batch - 1) + (long) M * N;
        need(op, "A", A, aOff, extA);
        need(op, "B", B, bOff, extB);
        need(op, "C", C, cOff, extC);
        if (K == 0) {                       // empty product: C = beta C on each batch entry, on the host
            for (int i = 0; i < batch; i++) {
                for (int j = 0; j < M * N; j++) {
                    int idx = cOff + i * strideC + j;
                    C[idx] = beta == 0f ? 0f : beta * C[idx];
                }
            }
            return;
        }
        dev.makeCurrent();
        try (DeviceBuffer a = up(A, aOff, extA); DeviceBuffer b = up(B, bOff, extB);
             DeviceBuffer c = beta == 0f ? out(extC) : up(C, cOff, extC)) {
            ops.gemmBatched(transA, transB, batch, M, N, K, alpha, a, 0, strideA, b, 0, strideB, beta, c, 0, strideC, gemmPrecision);
            // with beta == 0 the gaps between batch entries (stride > M*N) hold garbage on the device:
            // download entry by entry so the caller's array outside the entries is untouched
            if (beta == 0f && strideC != M * N && batch > 1) {
                for (int i = 0; i < batch; i++) {
                    dev.download(c, (long) i * strideC, C, cOff + i * strideC, M * N);
                }
            } else {
                down(c, C, cOff, extC);
            }
        }
    }

    // ------------------------------------------------------------------ elementwise

    @Override
    public synchronized void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        binary("add", out, oOff, a, aOff, b, bOff, n, true);
    }

    @Override
    public synchronized void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        binary("mul", out, oOff, a, aOff, b, bOff, n, false);
    }

    private void binary(String op, float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n, boolean add) {
        dims(op, n);
        need(op, "out", out, oOff, n);
        need(op, "a", a, aOff, n);
        need(op, "b", b, bOff, n);
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer da = up(a, aOff, n); DeviceBuffer db = up(b, bOff, n); DeviceBuffer o = out(n)) {
            if (add) ops.add(o, da, db, n); else ops.mul(o, da, db, n);
            down(o, out, oOff, n);
        }
    }

    @Override
    public synchronized void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        dims("axpy", n);
        need("axpy", "x", x, xOff, n);
        need("axpy", "y", y, yOff, n);
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer dx = up(x, xOff, n); DeviceBuffer dy = up(y, yOff, n)) {
            ops.axpy(alpha, dx, dy, n);
            down(dy, y, yOff, n);
        }
    }

    @Override
    public synchronized void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        dims("scale", n);
        need("scale", "out", out, oOff, n);
        need("scale", "a", a, aOff, n);
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer da = up(a, aOff, n); DeviceBuffer o = out(n)) {
            ops.scale(o, da, alpha, n);
            down(o, out, oOff, n);
        }
    }

    @Override
    public synchronized double sum(float[] a, int aOff, int n) {
        return reduce("sum", a, aOff, n, false);
    }

    @Override
    public synchronized double sumSquares(float[] a, int aOff, int n) {
        return reduce("sumSquares", a, aOff, n, true);
    }

    private double reduce(String op, float[] a, int aOff, int n, boolean squares) {
        dims(op, n);
        need(op, "a", a, aOff, n);
        if (n == 0) return 0.0;
        dev.makeCurrent();
        try (DeviceBuffer da = up(a, aOff, n)) {
            return ops.sum(da, n, squares);
        }
    }

    // ------------------------------------------------------------------ RMSNorm, RoPE, SwiGLU

    @Override
    public synchronized void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        String op = "rmsnormForward";
        dims(op, N, C);
        long nc = (long) N * C;
        need(op, "out", out, 0, nc); need(op, "x", x, 0, nc); need(op, "w", w, 0, C); need(op, "rstd", rstd, 0, N);
        if (N == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer dx = up(x, 0, nc); DeviceBuffer dw = up(w, 0, C); DeviceBuffer o = out(nc); DeviceBuffer r = out(N)) {
            ops.rmsnormForward(o, r, dx, dw, N, C, eps);
            down(o, out, 0, nc);
            down(r, rstd, 0, N);
        }
    }

    @Override
    public synchronized void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        String op = "rmsnormBackward";
        dims(op, N, C);
        long nc = (long) N * C;
        need(op, "dx", dx, 0, nc); need(op, "dout", dout, 0, nc); need(op, "x", x, 0, nc);
        need(op, "w", w, 0, C); need(op, "dw", dw, 0, C); need(op, "rstd", rstd, 0, N);
        if (N == 0 || C == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer gx = up(dx, 0, nc); DeviceBuffer gw = up(dw, 0, C); DeviceBuffer go = up(dout, 0, nc);
             DeviceBuffer xx = up(x, 0, nc); DeviceBuffer ww = up(w, 0, C); DeviceBuffer r = up(rstd, 0, N)) {
            ops.rmsnormBackward(gx, gw, go, xx, ww, r, N, C);
            down(gx, dx, 0, nc);
            down(gw, dw, 0, C);
        }
    }

    @Override
    public synchronized void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        String op = "rope";
        dims(op, R, H, D);
        if (D % 2 != 0) throw new IllegalArgumentException(op + ": head dim D=" + D + " must be even");
        long n = (long) R * H * D;
        need(op, "x", x, 0, n); need(op, "out", out, 0, n); need(op, "pos", pos, R);
        if (n == 0) return;
        int half = D / 2;
        if (cos == null || sin == null || cos.length != sin.length || cos.length % half != 0) {
            throw new IllegalArgumentException(op + ": cos/sin tables must both be [maxPos, D/2=" + half + "]");
        }
        int maxPos = cos.length / half;
        for (int r = 0; r < R; r++) {
            if (pos[r] < 0 || pos[r] >= maxPos) {
                throw new IllegalArgumentException(op + ": pos[" + r + "]=" + pos[r] + " is outside the cos/sin tables [0, " + maxPos + ")");
            }
        }
        dev.makeCurrent();
        try (DeviceBuffer dx = up(x, 0, n); DeviceBuffer p = dev.upload(pos, R); DeviceBuffer c = up(cos, 0, cos.length);
             DeviceBuffer s = up(sin, 0, sin.length); DeviceBuffer o = out(n)) {
            ops.rope(o, dx, p, c, s, R, H, D, inverse);
            down(o, out, 0, n);
        }
    }

    @Override
    public synchronized void swigluForward(float[] out, float[] a, float[] b, int n) {
        dims("swigluForward", n);
        need("swigluForward", "out", out, 0, n); need("swigluForward", "a", a, 0, n); need("swigluForward", "b", b, 0, n);
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer da = up(a, 0, n); DeviceBuffer db = up(b, 0, n); DeviceBuffer o = out(n)) {
            ops.swigluForward(o, da, db, n);
            down(o, out, 0, n);
        }
    }

    @Override
    public synchronized void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        String op = "swigluBackward";
        dims(op, n);
        need(op, "da", da, 0, n); need(op, "db", db, 0, n); need(op, "dout", dout, 0, n); need(op, "a", a, 0, n); need(op, "b", b, 0, n);
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer ga = up(da, 0, n); DeviceBuffer gb = up(db, 0, n); DeviceBuffer go = up(dout, 0, n);
             DeviceBuffer xa = up(a, 0, n); DeviceBuffer xb = up(b, 0, n)) {
            ops.swigluBackward(ga, gb, go, xa, xb, n);
            down(ga, da, 0, n);
            down(gb, db, 0, n);
        }
    }

    // ------------------------------------------------------------------ attention

    private static void checkAttention(String op, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk,
                                       int Hq, int Hkv, int D, int qStart) {
        dims(op, B, Tq, Tk, Hq, Hkv, D, qStart);
        CudaOps.checkAttention(Hq, Hkv, D);
        need(op, "q", q, 0, (long) B * Tq * Hq * D);
        need(op, "k", k, 0, (long) B * Tk * Hkv * D);
        need(op, "v", v, 0, (long) B * Tk * Hkv * D);
        if (keyMask != null && keyMask.length < (long) B * Tk) {
            throw new IllegalArgumentException(op + ": keyMask needs " + (long) B * Tk + " bytes [B, Tk] but has " + keyMask.length);
        }
    }

    @Override
    public synchronized void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B,
                                              int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        String op = "attentionForward";
        checkAttention(op, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        long nq = (long) B * Tq * Hq * D, nk = (long) B * Tk * Hkv * D, nl = (long) B * Hq * Tq;
        need(op, "out", out, 0, nq); need(op, "lse", lse, 0, nl);
        if (nq == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer dq = up(q, 0, nq); DeviceBuffer dk = up(k, 0, nk); DeviceBuffer dv = up(v, 0, nk);
             DeviceBuffer mask = keyMask == null ? null : dev.upload(keyMask, B * Tk);
             DeviceBuffer o = out(nq); DeviceBuffer l = out(nl)) {
            ops.attentionForward(o, l, dq, dk, dv, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
            down(o, out, 0, nq);
            down(l, lse, 0, nl);
        }
    }

    @Override
    public synchronized void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v,
                                               float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv,
                                               int D, int qStart, float scale) {
        String op = "attentionBackward";
        checkAttention(op, q, k, v, keyMask, B, Tq, Tk, Hq, Hkv, D, qStart);
        long nq = (long) B * Tq * Hq * D, nk = (long) B * Tk * Hkv * D, nl = (long) B * Hq * Tq;
        need(op, "dq", dq, 0, nq); need(op, "dk", dk, 0, nk); need(op, "dv", dv, 0, nk);
        need(op, "dout", dout, 0, nq); need(op, "out", out, 0, nq); need(op, "lse", lse, 0, nl);
        if (nq == 0 || nk == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer gq = up(dq, 0, nq); DeviceBuffer gk = up(dk, 0, nk); DeviceBuffer gv = up(dv, 0, nk);
             DeviceBuffer go = up(dout, 0, nq); DeviceBuffer xq = up(q, 0, nq); DeviceBuffer xk = up(k, 0, nk);
             DeviceBuffer xv = up(v, 0, nk); DeviceBuffer xo = up(out, 0, nq); DeviceBuffer xl = up(lse, 0, nl);
             DeviceBuffer mask = keyMask == null ? null : dev.upload(keyMask, B * Tk)) {
            ops.attentionBackward(gq, gk, gv, go, xq, xk, xv, xo, xl, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
            down(gq, dq, 0, nq);
            down(gk, dk, 0, nk);
            down(gv, dv, 0, nk);
        }
    }

    // ------------------------------------------------------------------ softmax family

    private interface RowKernel { void run(DeviceBuffer a, DeviceBuffer b, int N, int V); }

    private interface RowKernel3 { void run(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, int N, int V); }

    private void rowForward(String op, float[] out, float[] x, int N, int V, RowKernel k) {
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "out", out, 0, nv); need(op, "x", x, 0, nv);
        if (nv == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer dx = up(x, 0, nv); DeviceBuffer o = out(nv)) {
            k.run(o, dx, N, V);
            down(o, out, 0, nv);
        }
    }

    private void rowBackward(String op, float[] dx, float[] dy, float[] y, int N, int V, RowKernel3 k) {
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "dx", dx, 0, nv); need(op, "dy", dy, 0, nv); need(op, "y", y, 0, nv);
        if (nv == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer g = up(dx, 0, nv); DeviceBuffer gy = up(dy, 0, nv); DeviceBuffer yy = up(y, 0, nv)) {
            k.run(g, gy, yy, N, V);
            down(g, dx, 0, nv);
        }
    }

    @Override public synchronized void softmaxForward(float[] out, float[] x, int N, int V) { rowForward("softmaxForward", out, x, N, V, ops::softmaxForward); }

    @Override public synchronized void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) { rowBackward("softmaxBackward", dx, dy, y, N, V, ops::softmaxBackward); }

    @Override public synchronized void logSoftmaxForward(float[] out, float[] x, int N, int V) { rowForward("logSoftmaxForward", out, x, N, V, ops::logSoftmaxForward); }

    @Override public synchronized void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) { rowBackward("logSoftmaxBackward", dx, dy, y, N, V, ops::logSoftmaxBackward); }

    private static void checkTargets(String op, int[] target, int N, int V) {
        need(op, "target", target, N);
        for (int n = 0; n < N; n++) {
            if (target[n] >= V) {
                throw new IllegalArgumentException(op + ": target[" + n + "]=" + target[n] + " is outside the vocabulary [0, V=" + V
                        + ") (negative = ignored position)");
            }
        }
    }

    @Override
    public synchronized void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        String op = "tokenLogProbsForward";
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "logits", logits, 0, nv); need(op, "out", out, 0, N); need(op, "lse", lse, 0, N);
        checkTargets(op, target, N, V);
        if (N == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer x = up(logits, 0, nv); DeviceBuffer t = dev.upload(target, N); DeviceBuffer o = out(N); DeviceBuffer l = out(N)) {
            ops.tokenLogProbsForward(o, l, x, t, N, V);
            down(o, out, 0, N);
            down(l, lse, 0, N);
        }
    }

    @Override
    public synchronized void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        String op = "tokenLogProbsBackward";
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "dlogits", dlogits, 0, nv); need(op, "logits", logits, 0, nv); need(op, "dout", dout, 0, N); need(op, "lse", lse, 0, N);
        checkTargets(op, target, N, V);
        if (nv == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer g = up(dlogits, 0, nv); DeviceBuffer go = up(dout, 0, N); DeviceBuffer x = up(logits, 0, nv);
             DeviceBuffer l = up(lse, 0, N); DeviceBuffer t = dev.upload(target, N)) {
            ops.tokenLogProbsBackward(g, go, x, l, t, N, V);
            down(g, dlogits, 0, nv);
        }
    }

    @Override
    public synchronized void entropyForward(float[] out, float[] lse, float[] logits, int N, int V) {
        String op = "entropyForward";
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "logits", logits, 0, nv); need(op, "out", out, 0, N); need(op, "lse", lse, 0, N);
        if (N == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer x = up(logits, 0, nv); DeviceBuffer o = out(N); DeviceBuffer l = out(N)) {
            ops.entropyForward(o, l, x, N, V);
            down(o, out, 0, N);
            down(l, lse, 0, N);
        }
    }

    @Override
    public synchronized void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        String op = "entropyBackward";
        dims(op, N, V);
        long nv = (long) N * V;
        need(op, "dlogits", dlogits, 0, nv); need(op, "logits", logits, 0, nv); need(op, "dout", dout, 0, N);
        need(op, "lse", lse, 0, N); need(op, "entropy", entropy, 0, N);
        if (nv == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer g = up(dlogits, 0, nv); DeviceBuffer go = up(dout, 0, N); DeviceBuffer x = up(logits, 0, nv);
             DeviceBuffer l = up(lse, 0, N); DeviceBuffer h = up(entropy, 0, N)) {
            ops.entropyBackward(g, go, x, l, h, N, V);
            down(g, dlogits, 0, nv);
        }
    }

    // ------------------------------------------------------------------ embedding

    private static int checkEmbedding(String op, float[] table, String tableName, int[] ids, int N, int C) {
        dims(op, N, C);
        need(op, "ids", ids, N);
        if (N == 0 || C == 0) return 0;
        if (table == null || table.length % C != 0) {
            throw new IllegalArgumentException(op + ": " + tableName + " must be [vocab, C=" + C + "], got length "
                    + (table == null ? "null" : table.length));
        }
        int vocab = table.length / C;
        for (int n = 0; n < N; n++) {
            if (ids[n] < 0 || ids[n] >= vocab) {
                throw new IllegalArgumentException(op + ": ids[" + n + "]=" + ids[n] + " is outside the " + tableName
                        + " rows [0, vocab=" + vocab + ")");
            }
        }
        return vocab;
    }

    @Override
    public synchronized void embeddingForward(float[] out, float[] table, int[] ids, int N, int C) {
        String op = "embeddingForward";
        int vocab = checkEmbedding(op, table, "table", ids, N, C);
        long nc = (long) N * C;
        need(op, "out", out, 0, nc);
        if (nc == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer t = up(table, 0, (long) vocab * C); DeviceBuffer i = dev.upload(ids, N); DeviceBuffer o = out(nc)) {
            ops.embeddingForward(o, t, i, N, C);
            down(o, out, 0, nc);
        }
    }

    @Override
    public synchronized void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C) {
        String op = "embeddingBackward";
        int vocab = checkEmbedding(op, dtable, "dtable", ids, N, C);
        long nc = (long) N * C;
        need(op, "dout", dout, 0, nc);
        if (nc == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer t = up(dtable, 0, (long) vocab * C); DeviceBuffer g = up(dout, 0, nc); DeviceBuffer i = dev.upload(ids, N)) {
            ops.embeddingBackward(t, g, i, N, C);
            down(t, dtable, 0, (long) vocab * C);
        }
    }

    // ------------------------------------------------------------------ optimizer

    @Override
    public synchronized void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps,
                                   float weightDecay, float bc1, float bc2) {
        String op = "adamw";
        dims(op, n);
        need(op, "p", p, 0, n); need(op, "g", g, 0, n); need(op, "m", m, 0, n); need(op, "v", v, 0, n);
        if (!(bc1 > 0f && bc1 <= 1f && bc2 > 0f && bc2 <= 1f)) {
            throw new IllegalArgumentException(op + ": bias corrections must be in (0, 1] (bc = 1 - beta^t, t >= 1), got bc1="
                    + bc1 + " bc2=" + bc2);
        }
        if (n == 0) return;
        dev.makeCurrent();
        try (DeviceBuffer dp = up(p, 0, n); DeviceBuffer dg = up(g, 0, n); DeviceBuffer dm = up(m, 0, n); DeviceBuffer dv = up(v, 0, n)) {
            ops.adamw(dp, dg, dm, dv, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
            down(dp, p, 0, n);
            down(dm, m, 0, n);
            down(dv, v, 0, n);
        }
    }
}

package io.r1kit.model.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The backend conformance checks, as main code so they run without Maven or JUnit
 * ({@code r1kit selftest}) as well as in the test suite (BackendConformanceTest): every
 * {@link Backend} op, forward and backward, against the control, {@link ReferenceBackend} (plain
 * scalar loops, double accumulation; itself checked against libtorch by the ops tests).
 *
 * <p>Shapes are awkward on purpose (1, 7, 33, 129: not multiples of any vector or warp width).
 * Backward kernels accumulate, so every gradient buffer starts from the same random contents.
 * A check stops at its first mismatch ({@link Mismatch}, naming the op, shape and element).
 *
 * <p>Tolerances ({@link Tol}) and why:
 * <ul>
 *   <li>CPU (fp32 throughout): elementwise ops agree to an ulp or two (fma vs separate multiply-add);
 *       row reductions sum in float lanes against the reference's double: ~1e-6 relative per row;
 *       GEMM accumulates K <= 129 products in float: |err| <~ K * 2^-24 * sum|a b| ~ 1e-5 for unit
 *       normals, 1e-4 leaves room.
 *   <li>CUDA elementwise/softmax/norm/attention: fp32 arithmetic with expf/logf (<= 2 ulp) and
 *       fp32 block/warp tree reductions, atomics in a run-dependent order (embedding, attention and
 *       RMSNorm-dw backward): 1e-5..1e-4 absolute on O(1) values.
 *   <li>CUDA GEMM (default bf16 operands, fp32 accumulation): each operand is rounded to bf16
 *       (relative error <= 2^-9), so each product carries <= ~2^-8 relative error and the sum of K
 *       random-sign products an error of about 2^-8 * sqrt(K) * |a||b| (std); atol = 0.03 * sqrt(K)
 *       is ~7 standard deviations for unit-normal operands, rtol 1e-2 covers large outputs. The
 *       same bound holds on r1kit's own GEMM kernels (used without cuBLAS): bf16 operands on the
 *       tensor cores, fp32 requests in full fp32.
 * </ul>
 */
public final class Conformance {
    private Conformance() {}

    /** Absolute + relative tolerance with the reason it is what it is. */
    public record Tol(double atol, double rtol, String why) {}

    /** Tolerances of one backend per kind of op. */
    public record Profile(Tol elementwise, Tol reduction, Tol gemmPerSqrtK, Tol attention, Tol scalarSum) {}

    public static final Profile CPU = new Profile(
            new Tol(1e-6, 1e-6, "fp32 elementwise: fma vs multiply+add, <= 2 ulp"),
            new Tol(1e-5, 1e-5, "float-lane row sums vs double reference"),
            new Tol(1e-5, 1e-4, "float accumulation of K products (atol per sqrt(K))"),
            new Tol(1e-5, 1e-4, "online softmax in float vs textbook softmax in double"),
            new Tol(1e-9, 1e-9, "blocked float sums added in double"));

    public static final Profile CUDA = new Profile(
            new Tol(1e-5, 1e-5, "fp32 with expf (<= 2 ulp) and fmaf"),
            new Tol(1e-4, 1e-4, "fp32 block tree reductions, atomics in run-dependent order"),
            new Tol(0.03, 1e-2, "bf16 operands (2^-9 relative each), fp32 accumulation: ~7 sigma of 2^-8*sqrt(K)"),
            new Tol(1e-4, 1e-4, "fp32 flash attention, expf, dq/dk/dv atomics in run-dependent order"),
            new Tol(1e-6, 1e-6, "per-thread double partials, double tree reduction"));

    /** A conformance mismatch: what, where, expected and actual. */
    public static final class Mismatch extends AssertionError {
        public Mismatch(String message) { super(message); }
    }

    /** One check on one backend: a case by name, passed or the first mismatch, and its time. */
    public record Result(String check, boolean passed, String detail, double seconds) {}

    /** A conformance case: runs every shape of one op family, throwing {@link Mismatch} at the first difference. */
    @FunctionalInterface
    public interface Case { void run(Backend be, Profile p, String name); }

    /** Every case, by name, in the order they run. */
    public static final Map<String, Case> CASES = cases();

    private static Map<String, Case> cases() {
        Map<String, Case> m = new LinkedHashMap<>();
        m.put("gemm", Conformance::gemm);
        m.put("gemmBatched", Conformance::gemmBatched);
        m.put("elementwise", Conformance::elementwise);
        m.put("sums", Conformance::sums);
        m.put("rmsnorm", Conformance::rmsnorm);
        m.put("rope", Conformance::rope);
        m.put("swiglu", Conformance::swiglu);
        m.put("attention", Conformance::attention);
        m.put("softmaxFamily", Conformance::softmaxFamily);
        m.put("embedding", Conformance::embedding);
        m.put("adamw", Conformance::adamw);
        return m;
    }

    /** Runs every case on {@code be}; a case that throws anything else is a failed check too. */
    public static List<Result> runAll(Backend be, Profile p, String name) {
        List<Result> out = new ArrayList<>();
        for (var e : CASES.entrySet()) {
            long t0 = System.nanoTime();
            String detail = null;
            try {
                e.getValue().run(be, p, name);
            } catch (Mismatch m) {
                detail = m.getMessage();
            } catch (RuntimeException | LinkageError ex) {
                detail = ex.getClass().getSimpleName() + ": " + String.valueOf(ex.getMessage()).lines().findFirst().orElse("");
            }
            out.add(new Result(e.getKey(), detail == null, detail == null ? "ok" : detail, (System.nanoTime() - t0) / 1e9));
        }
        return out;
    }

    static final Backend REF = ReferenceBackend.INSTANCE;

    // ------------------------------------------------------------------ helpers

    public static float[] randn(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            a[i] = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    /** |expected - actual| <= atol + rtol |expected| elementwise (non-finite values must match exactly); else the worst element. */
    public static void close(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) throw new Mismatch(what + ": length " + actual.length + " != expected " + expected.length);
        int worst = -1;
        double worstExcess = 0, worstErr = 0;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (!Float.isFinite(e) || !Float.isFinite(a)) {
                if (Float.compare(e, a) != 0) throw new Mismatch(what + ": element " + i + " expected " + e + " got " + a);
                continue;
            }
            double err = Math.abs((double) e - a), allowed = atol + rtol * Math.abs(e);
            if (err - allowed > worstExcess) {
                worstExcess = err - allowed;
                worst = i;
                worstErr = err;
            }
        }
        if (worst >= 0) {
            throw new Mismatch(String.format("%s: element %d expected %.8g got %.8g (|err| %.3g > atol %.1g + rtol %.1g·|e|), n=%d",
                    what, worst, expected[worst], actual[worst], worstErr, atol, rtol, expected.length));
        }
    }

    static void close(String what, float[] expected, float[] actual, Tol tol) {
        close(what + " [" + tol.why() + "]", expected, actual, tol.atol(), tol.rtol());
    }

    static void closeScalar(double expected, double actual, double tolerance, String what) {
        if (!(Math.abs(expected - actual) <= tolerance)) {
            throw new Mismatch(String.format("%s: expected %.12g got %.12g (|err| %.3g > %.3g)", what, expected, actual,
                    Math.abs(expected - actual), tolerance));
        }
    }

    static final int[] SIZES = {1, 7, 33, 129};

    // ------------------------------------------------------------------ GEMM

    public static void gemm(Backend be, Profile p, String name) {
        long seed = 1;
        for (int[] mnk : new int[][] {{1, 1, 1}, {7, 33, 129}, {33, 1, 7}, {129, 7, 33}, {5, 9, 0}}) {
            int M = mnk[0], N = mnk[1], K = mnk[2];
            for (boolean tA : new boolean[] {false, true}) {
                for (boolean tB : new boolean[] {false, true}) {
                    for (float beta : new float[] {0f, 0.5f}) {
                        int aOff = 3, bOff = 5, cOff = 2;
                        float[] A = randn(seed++, aOff + M * K), B = randn(seed++, bOff + K * N), C0 = randn(seed++, cOff + M * N);
                        if (beta == 0f) C0[cOff] = Float.NaN;     // beta == 0 must overwrite, not propagate NaN
                        float[] expected = C0.clone(), actual = C0.clone();
                        REF.gemm(tA, tB, M, N, K, 1.25f, A, aOff, B, bOff, beta, expected, cOff);
                        be.gemm(tA, tB, M, N, K, 1.25f, A, aOff, B, bOff, beta, actual, cOff);
                        Tol t = p.gemmPerSqrtK();
                        close(name + " gemm M=" + M + " N=" + N + " K=" + K + " tA=" + tA + " tB=" + tB + " beta=" + beta,
                                expected, actual, t.atol() * Math.sqrt(Math.max(1, K)), t.rtol());
                    }
                }
            }
        }
    }

    public static void gemmBatched(Backend be, Profile p, String name) {
        int batch = 3, M = 7, N = 33, K = 17;
        for (boolean broadcastB : new boolean[] {false, true}) {
            int strideA = M * K, strideB = broadcastB ? 0 : K * N, strideC = M * N;
            float[] A = randn(11, batch * strideA), B = randn(12, broadcastB ? K * N : batch * K * N), C0 = randn(13, batch * strideC);
            for (boolean tA : new boolean[] {false, true}) {
                for (boolean tB : new boolean[] {false, true}) {
                    float[] expected = C0.clone(), actual = C0.clone();
                    REF.gemmBatched(tA, tB, batch, M, N, K, 0.75f, A, 0, strideA, B, 0, strideB, 1f, expected, 0, strideC);
                    be.gemmBatched(tA, tB, batch, M, N, K, 0.75f, A, 0, strideA, B, 0, strideB, 1f, actual, 0, strideC);
                    close(name + " gemmBatched broadcastB=" + broadcastB + " tA=" + tA + " tB=" + tB, expected, actual,
                            p.gemmPerSqrtK().atol() * Math.sqrt(K), p.gemmPerSqrtK().rtol());
                }
            }
        }
    }

    // ------------------------------------------------------------------ elementwise and sums

    public static void elementwise(Backend be, Profile p, String name) {
        for (int n : new int[] {1, 7, 33, 129, 4099}) {
            float[] a = randn(n, n + 4), b = randn(n + 1, n + 6), out0 = randn(n + 2, n + 3);
            float[] e = out0.clone(), g = out0.clone();
            REF.add(e, 3, a, 4, b, 6, n);
            be.add(g, 3, a, 4, b, 6, n);
            close(name + " add n=" + n, e, g, p.elementwise());
            e = out0.clone(); g = out0.clone();
            REF.mul(e, 3, a, 4, b, 6, n);
            be.mul(g, 3, a, 4, b, 6, n);
            close(name + " mul n=" + n, e, g, p.elementwise());
            e = b.clone(); g = b.clone();
            REF.axpy(-0.3f, a, 1, e, 2, n);
            be.axpy(-0.3f, a, 1, g, 2, n);
            close(name + " axpy n=" + n, e, g, p.elementwise());
            e = out0.clone(); g = out0.clone();
            REF.scale(e, 1, a, 2, 1.7f, n);
            be.scale(g, 1, a, 2, 1.7f, n);
            close(name + " scale n=" + n, e, g, p.elementwise());
        }
    }

    public static void sums(Backend be, Profile p, String name) {
        for (int n : new int[] {1, 7, 33, 129, 100_003}) {
            float[] a = randn(n + 7, n + 5);
            double es = REF.sum(a, 5, n), gs = be.sum(a, 5, n);
            double eq = REF.sumSquares(a, 5, n), gq = be.sumSquares(a, 5, n);
            double scale = REF.sumSquares(a, 5, n);   // sum |a|^2 bounds the rounding of both sums
            closeScalar(es, gs, p.scalarSum().atol() + p.scalarSum().rtol() * Math.max(1, scale), name + " sum n=" + n);
            closeScalar(eq, gq, p.scalarSum().atol() + p.scalarSum().rtol() * Math.max(1, scale), name + " sumSquares n=" + n);
        }
    }

    // ------------------------------------------------------------------ RMSNorm, RoPE, SwiGLU

    public static void rmsnorm(Backend be, Profile p, String name) {
        for (int N : new int[] {1, 7, 33}) {
            for (int C : new int[] {1, 7, 129, 1031}) {
                float[] x = randn(N * 31 + C, N * C), w = randn(C + 3, C), dout = randn(N + C, N * C);
                float[] eo = new float[N * C], go = new float[N * C], er = new float[N], gr = new float[N];
                REF.rmsnormForward(eo, er, x, w, N, C, 1e-6f);
                be.rmsnormForward(go, gr, x, w, N, C, 1e-6f);
                close(name + " rmsnormForward out N=" + N + " C=" + C, eo, go, p.reduction());
                close(name + " rmsnormForward rstd N=" + N + " C=" + C, er, gr, p.reduction());
                float[] dx0 = randn(5, N * C), dw0 = randn(6, C);
                float[] edx = dx0.clone(), gdx = dx0.clone(), edw = dw0.clone(), gdw = dw0.clone();
                REF.rmsnormBackward(edx, edw, dout, x, w, er, N, C);
                be.rmsnormBackward(gdx, gdw, dout, x, w, er, N, C);
                close(name + " rmsnormBackward dx N=" + N + " C=" + C, edx, gdx, p.reduction());
                close(name + " rmsnormBackward dw N=" + N + " C=" + C, edw, gdw, p.reduction());
            }
        }
    }

    public static void rope(Backend be, Profile p, String name) {
        for (int D : new int[] {2, 14, 66, 128}) {
            int R = 7, H = 3, maxPos = 40;
            RopeTables t = RopeTables.build(D, maxPos, 10000.0, RopeTables.Scaling.none());
            int[] pos = {0, 5, 39, 1, 1, 17, 33};
            float[] x = randn(D, R * H * D);
            for (boolean inverse : new boolean[] {false, true}) {
                float[] e = new float[x.length], g = new float[x.length];
                REF.rope(e, x, pos, t.cos(), t.sin(), R, H, D, inverse);
                be.rope(g, x, pos, t.cos(), t.sin(), R, H, D, inverse);
                close(name + " rope D=" + D + " inverse=" + inverse, e, g, p.elementwise());
            }
        }
    }

    public static void swiglu(Backend be, Profile p, String name) {
        for (int n : SIZES) {
            float[] a = randn(n, n), b = randn(n + 1, n), dout = randn(n + 2, n);
            a[0] = n == 1 ? -30f : a[0] * 8;   // a far tail of the sigmoid
            float[] e = new float[n], g = new float[n];
            REF.swigluForward(e, a, b, n);
            be.swigluForward(g, a, b, n);
            close(name + " swigluForward n=" + n, e, g, p.elementwise().atol(), 1e-5);
            float[] da0 = randn(9, n), db0 = randn(10, n);
            float[] eda = da0.clone(), gda = da0.clone(), edb = db0.clone(), gdb = db0.clone();
            REF.swigluBackward(eda, edb, dout, a, b, n);
            be.swigluBackward(gda, gdb, dout, a, b, n);
            close(name + " swigluBackward da n=" + n, eda, gda, p.elementwise().atol(), 1e-5);
            close(name + " swigluBackward db n=" + n, edb, gdb, p.elementwise().atol(), 1e-5);
        }
    }

    // ------------------------------------------------------------------ attention

    public static void attention(Backend be, Profile p, String name) {
        // {B, Tq, Tk, Hq, Hkv, D, qStart}: self-attention, GQA, decode (Tq=1), prefix continuation, odd D
        int[][] cases = {{1, 1, 1, 1, 1, 8, 0}, {2, 7, 7, 4, 2, 16, 0}, {1, 33, 33, 2, 1, 33, 0}, {2, 1, 40, 6, 2, 64, 39},
                {1, 5, 37, 3, 3, 128, 32}, {1, 70, 70, 2, 2, 7, 0}};
        long seed = 100;
        for (int[] c : cases) {
            int B = c[0], Tq = c[1], Tk = c[2], Hq = c[3], Hkv = c[4], D = c[5], qStart = c[6];
            float scale = (float) (1 / Math.sqrt(D));
            float[] q = randn(seed++, B * Tq * Hq * D), k = randn(seed++, B * Tk * Hkv * D), v = randn(seed++, B * Tk * Hkv * D);
            for (boolean masked : new boolean[] {false, true}) {
                byte[] mask = null;
                if (masked) {
                    mask = new byte[B * Tk];
                    Arrays.fill(mask, (byte) 1);
                    for (int b = 0; b < B; b++) {
                        mask[b * Tk] = 0;                                 // left padding: query 0 sees nothing when qStart = 0
                        if (Tk > 3) mask[b * Tk + Tk / 2] = 0;            // a hole in the middle
                    }
                }
                String what = name + " attention B=" + B + " Tq=" + Tq + " Tk=" + Tk + " Hq=" + Hq + " Hkv=" + Hkv + " D=" + D
                        + " qStart=" + qStart + " masked=" + masked;
                float[] eo = new float[q.length], go = new float[q.length], el = new float[B * Hq * Tq], gl = new float[B * Hq * Tq];
                REF.attentionForward(eo, el, q, k, v, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                be.attentionForward(go, gl, q, k, v, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                close(what + " out", eo, go, p.attention());
                close(what + " lse", el, gl, p.attention());
                float[] dout = randn(seed++, q.length);
                float[] dq0 = randn(seed++, q.length), dk0 = randn(seed++, k.length), dv0 = randn(seed++, v.length);
                float[] edq = dq0.clone(), gdq = dq0.clone(), edk = dk0.clone(), gdk = dk0.clone(), edv = dv0.clone(), gdv = dv0.clone();
                REF.attentionBackward(edq, edk, edv, dout, q, k, v, eo, el, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                be.attentionBackward(gdq, gdk, gdv, dout, q, k, v, eo, el, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                close(what + " dq", edq, gdq, p.attention());
                close(what + " dk", edk, gdk, p.attention());
                close(what + " dv", edv, gdv, p.attention());
            }
        }
    }

    // ------------------------------------------------------------------ softmax family

    public static void softmaxFamily(Backend be, Profile p, String name) {
        for (int N : new int[] {1, 7}) {
            for (int V : new int[] {1, 33, 129, 5003}) {
                float[] x = randn(N * 7 + V, N * V);
                for (int i = 0; i < x.length; i++) x[i] *= 3;
                float[] dy = randn(V, N * V), dx0 = randn(V + 1, N * V);
                String s = " N=" + N + " V=" + V;

                float[] ey = new float[N * V], gy = new float[N * V];
                REF.softmaxForward(ey, x, N, V);
                be.softmaxForward(gy, x, N, V);
                close(name + " softmaxForward" + s, ey, gy, p.reduction());
                float[] edx = dx0.clone(), gdx = dx0.clone();
                REF.softmaxBackward(edx, dy, ey, N, V);
                be.softmaxBackward(gdx, dy, ey, N, V);
                close(name + " softmaxBackward" + s, edx, gdx, p.reduction());

                REF.logSoftmaxForward(ey, x, N, V);
                be.logSoftmaxForward(gy, x, N, V);
                close(name + " logSoftmaxForward" + s, ey, gy, p.reduction());
                edx = dx0.clone(); gdx = dx0.clone();
                REF.logSoftmaxBackward(edx, dy, ey, N, V);
                be.logSoftmaxBackward(gdx, dy, ey, N, V);
                close(name + " logSoftmaxBackward" + s, edx, gdx, p.reduction());

                int[] target = new int[N];
                for (int n = 0; n < N; n++) target[n] = n % 3 == 2 ? -1 : (n * 31) % V;   // some ignored rows
                float[] dout = randn(N + 99, N);
                float[] eo = new float[N], go = new float[N], el = new float[N], gl = new float[N];
                REF.tokenLogProbsForward(eo, el, x, target, N, V);
                be.tokenLogProbsForward(go, gl, x, target, N, V);
                close(name + " tokenLogProbsForward" + s, eo, go, p.reduction());
                close(name + " tokenLogProbsForward lse" + s, el, gl, p.reduction());
                edx = dx0.clone(); gdx = dx0.clone();
                REF.tokenLogProbsBackward(edx, dout, x, el, target, N, V);
                be.tokenLogProbsBackward(gdx, dout, x, el, target, N, V);
                close(name + " tokenLogProbsBackward" + s, edx, gdx, p.reduction());

                REF.entropyForward(eo, el, x, N, V);
                be.entropyForward(go, gl, x, N, V);
                close(name + " entropyForward" + s, eo, go, p.reduction());
                close(name + " entropyForward lse" + s, el, gl, p.reduction());
                edx = dx0.clone(); gdx = dx0.clone();
                REF.entropyBackward(edx, dout, x, el, eo, N, V);
                be.entropyBackward(gdx, dout, x, el, eo, N, V);
                close(name + " entropyBackward" + s, edx, gdx, p.reduction());
            }
        }
    }

    // ------------------------------------------------------------------ embedding, AdamW

    public static void embedding(Backend be, Profile p, String name) {
        for (int C : SIZES) {
            int vocab = 11, N = 9;
            int[] ids = {3, 0, 10, 3, 3, 7, 0, 1, 10};     // repeated ids must accumulate
            float[] table = randn(C, vocab * C), dout = randn(C + 1, N * C);
            float[] e = new float[N * C], g = new float[N * C];
            REF.embeddingForward(e, table, ids, N, C);
            be.embeddingForward(g, table, ids, N, C);
            close(name + " embeddingForward C=" + C, e, g, 0, 0);
            float[] d0 = randn(C + 2, vocab * C), ed = d0.clone(), gd = d0.clone();
            REF.embeddingBackward(ed, dout, ids, N, C);
            be.embeddingBackward(gd, dout, ids, N, C);
            close(name + " embeddingBackward C=" + C, ed, gd, p.elementwise());
        }
    }

    public static void adamw(Backend be, Profile p, String name) {
        for (int n : new int[] {1, 7, 33, 129, 4099}) {
            float[] p0 = randn(n, n), g = randn(n + 1, n), m0 = randn(n + 2, n), v0 = randn(n + 3, n);
            for (int i = 0; i < n; i++) { m0[i] *= 0.1f; v0[i] = v0[i] * v0[i] * 0.01f; }
            float[] ep = p0.clone(), gp = p0.clone(), em = m0.clone(), gm = m0.clone(), ev = v0.clone(), gv = v0.clone();
            float b1 = 0.9f, b2 = 0.95f;
            int step = 3;
            float bc1 = (float) (1 - Math.pow(b1, step)), bc2 = (float) (1 - Math.pow(b2, step));
            REF.adamw(ep, g, em, ev, n, 1e-3f, b1, b2, 1e-8f, 0.1f, bc1, bc2);
            be.adamw(gp, g, gm, gv, n, 1e-3f, b1, b2, 1e-8f, 0.1f, bc1, bc2);
            close(name + " adamw p n=" + n, ep, gp, 1e-6, 1e-5);
            close(name + " adamw m n=" + n, em, gm, 1e-6, 1e-5);
            close(name + " adamw v n=" + n, ev, gv, 1e-7, 1e-5);
        }
    }
}

package io.r1kit.model.backend;

import io.r1kit.model.backend.cuda.CudaBackend;
import io.r1kit.model.testing.TorchRef;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every {@link Backend} op, forward and backward, on every backend under test against the control,
 * {@link ReferenceBackend} (plain scalar loops, double accumulation; itself checked against libtorch
 * by the ops tests). Backends under test: {@link CpuBackend}, and {@link CudaBackend} when a CUDA
 * device and the CUDA 12 libraries are present — otherwise the CUDA cases are reported as skipped
 * with the reason from {@link Devices#cudaUnavailableReason()}. (ReferenceBackend is the control,
 * so it is not a row of its own: comparing it with itself could not fail.)
 *
 * <p>Shapes are awkward on purpose (1, 7, 33, 129: not multiples of any vector or warp width).
 * Backward kernels accumulate, so every gradient buffer starts from the same random contents.
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
 *       is ~7 standard deviations for unit-normal operands, rtol 1e-2 covers large outputs.
 * </ul>
 */
class BackendConformanceTest {

    /** Absolute + relative tolerance with the reason it is what it is. */
    record Tol(double atol, double rtol, String why) {}

    /** Tolerances of one backend per kind of op. */
    record Profile(Tol elementwise, Tol reduction, Tol gemmPerSqrtK, Tol attention, Tol scalarSum) {}

    static final Profile CPU = new Profile(
            new Tol(1e-6, 1e-6, "fp32 elementwise: fma vs multiply+add, <= 2 ulp"),
            new Tol(1e-5, 1e-5, "float-lane row sums vs double reference"),
            new Tol(1e-5, 1e-4, "float accumulation of K products (atol per sqrt(K))"),
            new Tol(1e-5, 1e-4, "online softmax in float vs textbook softmax in double"),
            new Tol(1e-9, 1e-9, "blocked float sums added in double"));

    static final Profile CUDA = new Profile(
            new Tol(1e-5, 1e-5, "fp32 with expf (<= 2 ulp) and fmaf"),
            new Tol(1e-4, 1e-4, "fp32 block tree reductions, atomics in run-dependent order"),
            new Tol(0.03, 1e-2, "bf16 operands (2^-9 relative each), fp32 accumulation: ~7 sigma of 2^-8*sqrt(K)"),
            new Tol(1e-4, 1e-4, "fp32 flash attention, expf, dq/dk/dv atomics in run-dependent order"),
            new Tol(1e-6, 1e-6, "per-thread double partials, double tree reduction"));

    static Stream<Arguments> backends() {
        Supplier<Backend> cpu = () -> CpuBackend.INSTANCE;
        Supplier<Backend> cuda = () -> {
            String why = Devices.cudaUnavailableReason();
            Assumptions.assumeTrue(why == null, "CUDA backend skipped: " + why);
            return CudaBackend.forDevice(0);
        };
        return Stream.of(Arguments.of("cpu", cpu, CPU), Arguments.of("cuda", cuda, CUDA));
    }

    static final Backend REF = ReferenceBackend.INSTANCE;

    // ------------------------------------------------------------------ helpers

    static float[] randn(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            a[i] = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return a;
    }

    static void close(String what, float[] expected, float[] actual, double atol, double rtol) {
        TorchRef.assertClose(what, expected, actual, atol, rtol);
    }

    static void close(String what, float[] expected, float[] actual, Tol tol) {
        close(what + " [" + tol.why() + "]", expected, actual, tol.atol(), tol.rtol());
    }

    static final int[] SIZES = {1, 7, 33, 129};

    // ------------------------------------------------------------------ GEMM

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void gemm(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void gemmBatched(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void elementwise(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void sums(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
        for (int n : new int[] {1, 7, 33, 129, 100_003}) {
            float[] a = randn(n + 7, n + 5);
            double es = REF.sum(a, 5, n), gs = be.sum(a, 5, n);
            double eq = REF.sumSquares(a, 5, n), gq = be.sumSquares(a, 5, n);
            double scale = REF.sumSquares(a, 5, n);   // sum |a|^2 bounds the rounding of both sums
            assertEquals(es, gs, p.scalarSum().atol() + p.scalarSum().rtol() * Math.max(1, scale), name + " sum n=" + n);
            assertEquals(eq, gq, p.scalarSum().atol() + p.scalarSum().rtol() * Math.max(1, scale), name + " sumSquares n=" + n);
        }
    }

    // ------------------------------------------------------------------ RMSNorm, RoPE, SwiGLU

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rmsnorm(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void rope(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void swiglu(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void attention(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void softmaxFamily(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void embedding(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void adamw(String name, Supplier<Backend> sb, Profile p) {
        Backend be = sb.get();
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

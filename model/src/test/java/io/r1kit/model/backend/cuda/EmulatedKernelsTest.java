package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.backend.RopeTables;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the REAL CUDA kernel sources — compiled with g++ against a host emulation of CUDA
 * (cuda_host_emu.h: one OS thread per CUDA thread, barriers for __syncthreads/__syncwarp, slot
 * exchange for shuffles, std::atomic_ref atomics) — through the production {@link CudaOps} launch
 * code (same grids, blocks, shared memory sizes) and compares with {@link ReferenceBackend}. This
 * checks the kernels' logic (indexing, tiling, causal/key masking, GQA, online softmax, reductions,
 * synchronisation pattern) on machines without a GPU; it cannot check cuBLAS, NVRTC loading,
 * timing or hardware memory-model effects (the conformance suite does that on a GPU).
 * Skipped visibly when g++ is missing. Tolerances as the CUDA row of BackendConformanceTest.
 */
class EmulatedKernelsTest {
    static Path work;
    static HostEmulatedDevice dev;
    static CudaOps ops;
    static final Backend REF = ReferenceBackend.INSTANCE;

    static Path gxx() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "g++");
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    static String testResource(String name) throws IOException {
        try (InputStream in = EmulatedKernelsTest.class.getResourceAsStream("/io/r1kit/model/backend/cuda/emu/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource emu/" + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @BeforeAll
    static void build() throws Exception {
        Path gxx = gxx();
        Assumptions.assumeTrue(gxx != null, "g++ not on PATH: host-emulated CUDA kernel tests skipped");
        StringBuilder all = new StringBuilder(testResource("cuda_host_emu.h")).append(testResource("runner.cpp"));
        all.append(KernelSources.read(KernelSources.HEADER));
        for (String f : KernelSources.FILES) all.append(KernelSources.read(f));
        Path cache = Path.of(System.getProperty("user.home"), ".cache", "r1kit", "emu", KernelSources.sha256(all.toString()).substring(0, 24));
        Path runner = cache.resolve("runner");
        work = Files.createTempDirectory("r1kit-emu-");
        if (!Files.isExecutable(runner)) {
            Path src = Files.createDirectories(work.resolve("src"));
            Files.writeString(src.resolve("cuda_host_emu.h"), testResource("cuda_host_emu.h"));
            Files.writeString(src.resolve("runner.cpp"), testResource("runner.cpp"));
            Files.writeString(src.resolve(KernelSources.HEADER), KernelSources.read(KernelSources.HEADER));
            for (String f : KernelSources.FILES) {
                // dynamic shared memory: the emulation hands out one host array per launch
                Files.writeString(src.resolve(f), KernelSources.read(f)
                        .replace("extern __shared__ float smem[];", "float* smem = r1_dynamic_smem.data();"));
            }
            Files.createDirectories(cache);
            Path tmp = cache.resolve("runner.tmp");
            Process p = new ProcessBuilder(gxx.toString(), "-std=c++20", "-O1", "-pthread", "-w", "-I", src.toString(), "-o",
                    tmp.toString(), src.resolve("runner.cpp").toString()).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) fail("g++ could not build the emulated kernels:\n" + log);
            Files.move(tmp, runner, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        dev = new HostEmulatedDevice(runner, work);
        ops = new CudaOps(dev);
    }

    @AfterAll
    static void cleanup() throws IOException {
        if (work == null) return;
        try (var files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    static float[] randn(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble()));
        return a;
    }

    static void close(String what, float[] e, float[] a, double atol, double rtol) {
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            if (!Float.isFinite(e[i]) || !Float.isFinite(a[i])) {
                if (Float.compare(e[i], a[i]) != 0) fail(what + ": element " + i + " expected " + e[i] + " got " + a[i]);
                continue;
            }
            double err = Math.abs((double) e[i] - a[i]);
            if (err > atol + rtol * Math.abs(e[i])) {
                fail(String.format("%s: element %d expected %.8g got %.8g (|err| %.3g)", what, i, e[i], a[i], err));
            }
        }
    }

    // ------------------------------------------------------------------ attention

    @Test
    void flashAttentionForwardAndBackward() {
        int[][] cases = {{1, 1, 1, 1, 1, 8, 0}, {2, 7, 7, 4, 2, 16, 0}, {1, 33, 33, 2, 1, 33, 0}, {2, 1, 40, 6, 2, 64, 39},
                {1, 5, 37, 3, 3, 128, 32}, {1, 20, 70, 2, 1, 7, 50}};
        long seed = 7;
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
                        mask[b * Tk] = 0;
                        if (Tk > 3) mask[b * Tk + Tk / 2] = 0;
                        if (Tk > 40) Arrays.fill(mask, b * Tk + 33, b * Tk + 38, (byte) 0);   // padding across a tile edge
                    }
                }
                String what = "attention " + Arrays.toString(c) + " masked=" + masked;
                int nl = B * Hq * Tq;
                float[] eo = new float[q.length], el = new float[nl];
                REF.attentionForward(eo, el, q, k, v, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                DeviceBuffer dq = dev.upload(q), dk = dev.upload(k), dv = dev.upload(v), dm = mask == null ? null : dev.upload(mask);
                DeviceBuffer o = dev.alloc(4L * q.length), l = dev.alloc(4L * nl);
                ops.attentionForward(o, l, dq, dk, dv, dm, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                close(what + " out", eo, dev.floats(o, q.length), 1e-4, 1e-4);
                close(what + " lse", el, dev.floats(l, nl), 1e-4, 1e-4);

                float[] dout = randn(seed++, q.length), g0q = randn(seed++, q.length), g0k = randn(seed++, k.length), g0v = randn(seed++, v.length);
                float[] edq = g0q.clone(), edk = g0k.clone(), edv = g0v.clone();
                REF.attentionBackward(edq, edk, edv, dout, q, k, v, eo, el, mask, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                DeviceBuffer gq = dev.upload(g0q), gk = dev.upload(g0k), gv = dev.upload(g0v), go = dev.upload(dout);
                DeviceBuffer xo = dev.upload(eo), xl = dev.upload(el);
                ops.attentionBackward(gq, gk, gv, go, dq, dk, dv, xo, xl, dm, B, Tq, Tk, Hq, Hkv, D, qStart, scale);
                close(what + " dq", edq, dev.floats(gq, q.length), 1e-4, 1e-4);
                close(what + " dk", edk, dev.floats(gk, k.length), 1e-4, 1e-4);
                close(what + " dv", edv, dev.floats(gv, v.length), 1e-4, 1e-4);
            }
        }
    }

    // ------------------------------------------------------------------ row kernels

    @Test
    void rmsnormSoftmaxFamilyAndFusedLogProbs() {
        // every op is enqueued first and checked after ONE run of the runner (each run is a process)
        List<Runnable> checks = new ArrayList<>();
        int N = 5;
        for (int V : new int[] {1, 33, 1000}) {
            float[] x = randn(V, N * V);
            for (int i = 0; i < x.length; i++) x[i] *= 3;
            if (V > 1) x[3] = Float.NEGATIVE_INFINITY;             // a masked vocabulary entry
            float[] dy = randn(V + 1, N * V), dx0 = randn(V + 2, N * V), dout = randn(V + 3, N);
            int[] target = {0, V - 1, -1, V / 2, 2 % V};
            String s = " V=" + V;
            int nv = N * V;
            DeviceBuffer dX = dev.upload(x), dDy = dev.upload(dy), dT = dev.upload(target), dDout = dev.upload(dout);

            float[] sm = new float[nv], lsm = new float[nv];
            REF.softmaxForward(sm, x, N, V);
            REF.logSoftmaxForward(lsm, x, N, V);
            float[] esb = dx0.clone(), elb = dx0.clone();
            REF.softmaxBackward(esb, dy, sm, N, V);
            REF.logSoftmaxBackward(elb, dy, lsm, N, V);
            DeviceBuffer y1 = dev.alloc(4L * nv), y2 = dev.alloc(4L * nv), g1 = dev.upload(dx0), g2 = dev.upload(dx0);
            ops.softmaxForward(y1, dX, N, V);
            ops.softmaxBackward(g1, dDy, dev.upload(sm), N, V);
            ops.logSoftmaxForward(y2, dX, N, V);
            ops.logSoftmaxBackward(g2, dDy, dev.upload(lsm), N, V);
            checks.add(() -> close("softmaxForward" + s, sm, dev.floats(y1, nv), 1e-5, 1e-5));
            checks.add(() -> close("softmaxBackward" + s, esb, dev.floats(g1, nv), 1e-4, 1e-4));
            checks.add(() -> close("logSoftmaxForward" + s, lsm, dev.floats(y2, nv), 1e-5, 1e-5));
            checks.add(() -> close("logSoftmaxBackward" + s, elb, dev.floats(g2, nv), 1e-4, 1e-4));

            float[] to = new float[N], tl = new float[N], ho = new float[N], hl = new float[N];
            REF.tokenLogProbsForward(to, tl, x, target, N, V);
            REF.entropyForward(ho, hl, x, N, V);
            float[] etb = dx0.clone(), ehb = dx0.clone();
            REF.tokenLogProbsBackward(etb, dout, x, tl, target, N, V);
            REF.entropyBackward(ehb, dout, x, hl, ho, N, V);
            DeviceBuffer o1 = dev.alloc(4L * N), l1 = dev.alloc(4L * N), o2 = dev.alloc(4L * N), l2 = dev.alloc(4L * N);
            DeviceBuffer g3 = dev.upload(dx0), g4 = dev.upload(dx0);
            ops.tokenLogProbsForward(o1, l1, dX, dT, N, V);
            ops.tokenLogProbsBackward(g3, dDout, dX, dev.upload(tl), dT, N, V);
            ops.entropyForward(o2, l2, dX, N, V);
            ops.entropyBackward(g4, dDout, dX, dev.upload(hl), dev.upload(ho), N, V);
            checks.add(() -> close("tokenLogProbsForward" + s, to, dev.floats(o1, N), 1e-5, 1e-5));
            checks.add(() -> close("tokenLogProbsForward lse" + s, tl, dev.floats(l1, N), 1e-5, 1e-5));
            checks.add(() -> close("tokenLogProbsBackward" + s, etb, dev.floats(g3, nv), 1e-5, 1e-5));
            checks.add(() -> close("entropyForward" + s, ho, dev.floats(o2, N), 1e-4, 1e-4));
            checks.add(() -> close("entropyForward lse" + s, hl, dev.floats(l2, N), 1e-5, 1e-5));
            checks.add(() -> close("entropyBackward" + s, ehb, dev.floats(g4, nv), 1e-5, 1e-4));
        }
        for (int C : new int[] {1, 7, 129}) {
            int R = 70;   // > 64 rows: two row chunks in the dw kernel
            float[] x = randn(C, R * C), w = randn(C + 1, C), dout = randn(C + 2, R * C), dx0 = randn(C + 3, R * C), dw0 = randn(C + 4, C);
            float[] eo = new float[R * C], er = new float[R];
            REF.rmsnormForward(eo, er, x, w, R, C, 1e-6f);
            float[] edx = dx0.clone(), edw = dw0.clone();
            REF.rmsnormBackward(edx, edw, dout, x, w, er, R, C);
            DeviceBuffer o = dev.alloc(4L * R * C), r = dev.alloc(4L * R), dX = dev.upload(x), dW = dev.upload(w);
            DeviceBuffer gx = dev.upload(dx0), gw = dev.upload(dw0);
            ops.rmsnormForward(o, r, dX, dW, R, C, 1e-6f);
            ops.rmsnormBackward(gx, gw, dev.upload(dout), dX, dW, dev.upload(er), R, C);
            checks.add(() -> close("rmsnormForward C=" + C, eo, dev.floats(o, R * C), 1e-5, 1e-5));
            checks.add(() -> close("rmsnormForward rstd C=" + C, er, dev.floats(r, R), 1e-5, 1e-5));
            checks.add(() -> close("rmsnormBackward dx C=" + C, edx, dev.floats(gx, R * C), 1e-4, 1e-4));
            checks.add(() -> close("rmsnormBackward dw C=" + C, edw, dev.floats(gw, C), 1e-4, 1e-4));
        }
        checks.forEach(Runnable::run);
    }

    // ------------------------------------------------------------------ elementwise family

    @Test
    void elementwiseRopeSwigluEmbeddingAdamwAndSums() {
        int n = 2053;   // > 4 blocks x 256 threads: the grid-stride loops wrap
        float[] a = randn(1, n), b = randn(2, n), c0 = randn(3, n);
        DeviceBuffer da = dev.upload(a), db = dev.upload(b), o = dev.alloc(4L * n);
        float[] e = new float[n];
        REF.add(e, 0, a, 0, b, 0, n);
        ops.add(o, da, db, n);
        close("add", e, dev.floats(o, n), 0, 0);
        REF.mul(e, 0, a, 0, b, 0, n);
        ops.mul(o, da, db, n);
        close("mul", e, dev.floats(o, n), 0, 0);
        e = c0.clone();
        REF.axpy(0.3f, a, 0, e, 0, n);
        DeviceBuffer y = dev.upload(c0);
        ops.axpy(0.3f, da, y, n);
        close("axpy", e, dev.floats(y, n), 1e-6, 1e-6);
        assertEquals(REF.sum(a, 0, n), ops.sum(da, n, false), 1e-9 * n, "sum");
        assertEquals(REF.sumSquares(a, 0, n), ops.sum(da, n, true), 1e-9 * n, "sumSquares");

        float[] sw = new float[n];
        REF.swigluForward(sw, a, b, n);
        ops.swigluForward(o, da, db, n);
        close("swigluForward", sw, dev.floats(o, n), 1e-6, 1e-5);
        float[] ga = c0.clone(), gb = randn(4, n), gb0 = gb.clone();
        REF.swigluBackward(ga, gb, b, a, b, n);
        DeviceBuffer gA = dev.upload(c0), gB = dev.upload(gb0);
        ops.swigluBackward(gA, gB, db, da, db, n);
        close("swigluBackward da", ga, dev.floats(gA, n), 1e-6, 1e-5);
        close("swigluBackward db", gb, dev.floats(gB, n), 1e-6, 1e-5);

        int R = 9, H = 3, D = 66;
        RopeTables t = RopeTables.build(D, 50, 10000.0, RopeTables.Scaling.none());
        int[] pos = {0, 1, 49, 7, 7, 20, 3, 33, 12};
        float[] x = randn(5, R * H * D);
        for (boolean inverse : new boolean[] {false, true}) {
            float[] er = new float[x.length];
            REF.rope(er, x, pos, t.cos(), t.sin(), R, H, D, inverse);
            DeviceBuffer dx = dev.upload(x);
            ops.rope(dx, dx, dev.upload(pos), dev.upload(t.cos()), dev.upload(t.sin()), R, H, D, inverse);   // in place
            close("rope inverse=" + inverse, er, dev.floats(dx, x.length), 1e-6, 1e-6);
        }

        int C = 37, vocab = 11;
        int[] ids = {3, 0, 10, 3, 3, 7};
        float[] table = randn(6, vocab * C), dout = randn(7, ids.length * C), dt0 = randn(8, vocab * C);
        float[] eo = new float[ids.length * C], edt = dt0.clone();
        REF.embeddingForward(eo, table, ids, ids.length, C);
        REF.embeddingBackward(edt, dout, ids, ids.length, C);
        DeviceBuffer eOut = dev.alloc(4L * eo.length), dIds = dev.upload(ids), dT = dev.upload(dt0);
        ops.embeddingForward(eOut, dev.upload(table), dIds, ids.length, C);
        ops.embeddingBackward(dT, dev.upload(dout), dIds, ids.length, C);
        close("embeddingForward", eo, dev.floats(eOut, eo.length), 0, 0);
        close("embeddingBackward", edt, dev.floats(dT, edt.length), 1e-6, 1e-6);

        float[] p = randn(9, n), g = randn(10, n), m = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) { m[i] = 0.1f * g[i]; v[i] = 0.01f * g[i] * g[i]; }
        float[] ep = p.clone(), em = m.clone(), ev = v.clone();
        REF.adamw(ep, g, em, ev, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.271f, 0.142625f);
        DeviceBuffer dp = dev.upload(p), dm = dev.upload(m), dv = dev.upload(v);
        ops.adamw(dp, dev.upload(g), dm, dv, n, 1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, 0.271f, 0.142625f);
        close("adamw p", ep, dev.floats(dp, n), 1e-6, 1e-5);
        close("adamw m", em, dev.floats(dm, n), 1e-7, 1e-5);
        close("adamw v", ev, dev.floats(dv, n), 1e-8, 1e-5);
    }

    // ------------------------------------------------------------------ sampling

    /** The kernel's rule, by sorting: survivors of top-k, then top-p, then min-p; draw in vocabulary order (after top-p: descending). */
    static int expectedSample(float[] x, int off, int V, float T, int topK, float topP, float minP, float u) {
        float mx = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < V; i++) mx = Math.max(mx, x[off + i]);
        float[] s = new float[V];
        for (int i = 0; i < V; i++) s[i] = (x[off + i] - mx) * (1f / T);
        float[] sorted = s.clone();
        Arrays.sort(sorted);
        float thr = Float.NEGATIVE_INFINITY;
        if (topK > 0 && topK < V) thr = sorted[V - topK];
        if (topP < 1f) {
            double kept = 0;
            for (int i = 0; i < V; i++) if (s[i] >= thr) kept += Math.exp(s[i]);
            double run = 0;
            for (int j = V - 1; j >= 0; j--) {       // descending; ties enter together
                if (sorted[j] < thr) break;
                float val = sorted[j];
                while (j >= 0 && sorted[j] == val) { run += Math.exp(sorted[j]); j--; }
                j++;
                if (run >= topP * kept) { thr = Math.max(thr, val); break; }
            }
        }
        if (minP > 0f) thr = Math.max(thr, (float) Math.log(minP));
        double total = 0;
        for (int i = 0; i < V; i++) if (s[i] >= thr) total += Math.exp(s[i]);
        double target = u * total, run = 0;
        int last = -1;
        if (topP < 1f) {   // after top-p: descending probability, ties in vocabulary order (generate.Sampler's nucleus)
            final float t = thr;
            Integer[] order = java.util.stream.IntStream.range(0, V).filter(i -> s[i] >= t).boxed()
                    .sorted((a, b) -> s[a] != s[b] ? Float.compare(s[b], s[a]) : Integer.compare(a, b)).toArray(Integer[]::new);
            for (int i : order) {
                run += Math.exp(s[i]);
                last = i;
                if (run > target) return i;
            }
            return last;
        }
        for (int i = 0; i < V; i++) {
            if (s[i] < thr) continue;
            run += Math.exp(s[i]);
            last = i;
            if (run > target) return i;
        }
        return last;
    }

    @Test
    void samplingFollowsTopKTopPMinPAndReportsLogProbs() {
        int N = 4, V = 300;
        float[] x = randn(42, N * V);
        for (int i = 0; i < x.length; i++) x[i] *= 2;
        float[] u = {0.01f, 0.37f, 0.93f, 0.999f};
        DeviceBuffer dx = dev.upload(x), du = dev.upload(u);
        record P(float T, int k, float p, float minP) {}
        List<P> settings = new ArrayList<>(List.of(new P(0f, 0, 1f, 0f), new P(1f, 0, 1f, 0f), new P(0.7f, 50, 1f, 0f),
                new P(1f, 0, 0.9f, 0f), new P(0.8f, 40, 0.8f, 0f), new P(1.2f, 0, 1f, 0.05f), new P(1f, 1, 1f, 0f)));
        List<Runnable> checks = new ArrayList<>();
        for (P sp : settings) {
            // the three log-prob modes on two settings; the others in mode 0 (one runner process in all)
            boolean allModes = sp.k() == 50 || sp.T() <= 0f;
            for (int m = 0; m < (allModes ? 3 : 1); m++) {
                int mode = m;
                DeviceBuffer out = dev.alloc(4L * N), lp = dev.alloc(4L * N);
                ops.sample(out, lp, dx, du, N, V, sp.T(), sp.k(), sp.p(), sp.minP(), mode);
                checks.add(() -> {
                    int[] got = dev.ints(out, N);
                    float[] gotLp = dev.floats(lp, N);
                    for (int n = 0; n < N; n++) {
                        int want;
                        if (sp.T() <= 0f) {
                            want = 0;
                            for (int i = 1; i < V; i++) if (x[n * V + i] > x[n * V + want]) want = i;
                        } else {
                            want = expectedSample(x, n * V, V, sp.T(), sp.k(), sp.p(), sp.minP(), u[n]);
                        }
                        assertEquals(want, got[n], "sample " + sp + " row " + n);
                        float[] row = Arrays.copyOfRange(x, n * V, n * V + V);
                        float[] ls = new float[1], lse = new float[1];
                        REF.tokenLogProbsForward(ls, lse, row, new int[] {want}, 1, V);
                        if (sp.T() <= 0f || mode == 2) assertEquals(ls[0], gotLp[n], 1e-4, "raw logprob " + sp);
                        if (sp.T() > 0f && mode == 1) {
                            float[] scaled = row.clone();
                            for (int i = 0; i < V; i++) scaled[i] /= sp.T();
                            REF.tokenLogProbsForward(ls, lse, scaled, new int[] {want}, 1, V);
                            assertEquals(ls[0], gotLp[n], 1e-4, "temperature logprob " + sp);
                        }
                        if (sp.T() > 0f && mode == 0) assertTrue(gotLp[n] <= 1e-6f, "processed logprob " + gotLp[n]);
                    }
                });
            }
        }
        checks.forEach(Runnable::run);
    }
}

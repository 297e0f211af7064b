package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fast {@link Gemm#gemm} against the scalar {@link Gemm#gemmReference} on awkward shapes,
 * all four transpose layouts, alpha/beta variants and offsets.
 *
 * <p>Tolerance: the reference accumulates in double, so it is (nearly) exact; the fast kernel
 * sums K float products in a different order (blocked, vector lanes, FMA). The a-priori bound
 * for a float dot product in ANY summation order is |err| <= K * eps * sum_p |a_ip| |b_pj|
 * (Higham, Accuracy and Stability, §3.1), plus a few roundings for alpha and the beta * C
 * merge. We allow (K + 4) * eps * (|alpha| sum_p |a_ip||b_pj| + |beta| |c_ij|) per element:
 * it can never flake, yet a dropped, doubled or misplaced term (error ~ |a_ip b_pj|, about
 * 1/K of the scale) is orders of magnitude above it for every K tested here.
 */
class GemmTest {
    static final float EPS = Math.ulp(1f);
    static final int[] AWKWARD = {1, 7, 33, 129};

    // ------------------------------------------------------------------ helpers

    static float[] random(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian());
        return x;
    }

    static float[] abs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
        return y;
    }

    /**
     * Runs fast and reference on the same inputs (C initialised to c0 at cOff inside arrays
     * padded with sentinels) and checks every element against the bound described above, and
     * that nothing outside C was written.
     */
    static void check(boolean tA, boolean tB, int M, int N, int K, float alpha, float beta,
                      int aOff, int bOff, int cOff, long seed) {
        Random r = new Random(seed);
        float[] A = random(r, aOff + M * K + 3);
        float[] B = random(r, bOff + K * N + 5);
        float[] c0 = random(r, cOff + M * N + 7);
        float[] fast = c0.clone();
        float[] ref = c0.clone();
        Gemm.gemm(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, fast, cOff);
        Gemm.gemmReference(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, ref, cOff);

        // scale[i,j] = sum_p |a_ip| |b_pj|, by the reference on |A|, |B|.
        float[] scale = new float[M * N];
        Gemm.gemmReference(tA, tB, M, N, K, 1f, abs(A), aOff, abs(B), bOff, 0f, scale, 0);
        String what = "gemm tA=" + tA + " tB=" + tB + " M=" + M + " N=" + N + " K=" + K
                + " alpha=" + alpha + " beta=" + beta + " offs=" + aOff + "," + bOff + "," + cOff;
        for (int i = 0; i < fast.length; i++) {
            int e = i - cOff;
            if (e < 0 || e >= M * N) {
                assertEquals(c0[i], fast[i], 0f, what + ": wrote outside C at index " + i);
                continue;
            }
            double bound = (K + 4) * EPS * (Math.abs(alpha) * scale[e] + Math.abs(beta * c0[i])) + Float.MIN_NORMAL;
            double err = Math.abs((double) fast[i] - ref[i]);
            if (!(err <= bound)) {
                fail(what + ": C[" + e / N + "," + e % N + "] fast=" + fast[i] + " ref=" + ref[i]
                        + " |err|=" + err + " > bound " + bound);
            }
        }
    }

    // ------------------------------------------------------------------ the reference itself

    @Test
    void referenceOnAHandExampleAllLayouts() {
        // op(A) = [[1,2,3],[4,5,6]] (2x3), op(B) = [[1,0],[0,1],[1,1]] (3x2) -> [[4,5],[10,11]]
        float[] a = {1, 2, 3, 4, 5, 6}, aT = {1, 4, 2, 5, 3, 6};
        float[] b = {1, 0, 0, 1, 1, 1}, bT = {1, 0, 1, 0, 1, 1};
        for (boolean tA : new boolean[] {false, true}) {
            for (boolean tB : new boolean[] {false, true}) {
                float[] c = {1, 1, 1, 1};
                Gemm.gemmReference(tA, tB, 2, 2, 3, 2f, tA ? aT : a, 0, tB ? bT : b, 0, 0.5f, c, 0);
                assertArrayEquals(new float[] {8.5f, 10.5f, 20.5f, 22.5f}, c, 0f, "tA=" + tA + " tB=" + tB);
                float[] f = {1, 1, 1, 1};
                Gemm.gemm(tA, tB, 2, 2, 3, 2f, tA ? aT : a, 0, tB ? bT : b, 0, 0.5f, f, 0);
                assertArrayEquals(c, f, 0f, "fast tA=" + tA + " tB=" + tB);
            }
        }
    }

    // ------------------------------------------------------------------ fast vs reference

    @Test
    void awkwardShapesAllLayouts() {
        long seed = 1;
        for (int M : AWKWARD) for (int N : AWKWARD) for (int K : AWKWARD) {
            for (int layout = 0; layout < 4; layout++) {
                check((layout & 1) != 0, (layout & 2) != 0, M, N, K, 1f, 0f, 0, 0, 0, seed++);
            }
        }
    }

    @Test
    void packedPathCrossesEveryBlockBoundary() {
        // M > 2 MC (several row blocks + edge panel, and above every skinny limit), K > KC (two K
        // blocks, beta applied once),
        // N not a multiple of NR and more than one task of strips.
        long seed = 100;
        for (int layout = 0; layout < 4; layout++) {
            check((layout & 1) != 0, (layout & 2) != 0, 2 * GemmPacked.MC + 11, 300, GemmPacked.KC + 5, 1.5f, 0.5f, 3, 1, 2, seed++);
        }
        // K so deep that the packed B panel holds only two strips: N spans several panels.
        int deepK = GemmPacked.B_PANEL_FLOATS / (2 * GemmPacked.NR);
        // (x·W with M just above the axpy-form limit: the cheapest shape that reaches the packed path)
        int m = GemmSkinny.MAX_ROWS_AXPY + 1;
        check(false, false, m, 2 * GemmPacked.NR + 5, deepK, 1f, 1f, 0, 0, 0, seed++);
        check(true, false, m, 2 * GemmPacked.NR + 1, deepK, -1f, 0f, 0, 0, 0, seed++);
        // K so deep that the packed A panel holds one MC block: M spans two row panels.
        int deepK2 = GemmPacked.A_PANEL_FLOATS / GemmPacked.MC + 7;
        check(false, false, GemmPacked.MC + 10, 9, deepK2, 1f, 0.5f, 0, 0, 0, seed++);
        check(true, true, GemmPacked.MC + 10, 9, deepK2, 1f, 0f, 0, 0, 0, seed++);
    }

    /**
     * The packed path with an explicit micro-kernel (mr = 6 or 12, whatever this machine's
     * default) and worker count on inputs made from seed (C all NaN when nanC: beta == 0 must
     * not read it); returns the whole C array, sentinels around C included.
     */
    static float[] runPacked(int mr, int threads, boolean tA, boolean tB, int M, int N, int K, float alpha, float beta,
                             int aOff, int bOff, int cOff, boolean nanC, long seed) {
        Random r = new Random(seed);
        float[] A = random(r, aOff + M * K + 3);
        float[] B = random(r, bOff + K * N + 5);
        float[] c = random(r, cOff + M * N + 7);
        if (nanC) Arrays.fill(c, cOff, cOff + M * N, Float.NaN);
        if (mr > 0) GemmPacked.gemm(mr, threads, tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, c, cOff);
        else Gemm.gemmReference(tA, tB, M, N, K, alpha, A, aOff, B, bOff, beta, c, cOff);
        return c;
    }

    /** runPacked, checked against the reference with the bound of check(); returns C. */
    static float[] checkPacked(int mr, int threads, boolean tA, boolean tB, int M, int N, int K, float alpha, float beta,
                               int aOff, int bOff, int cOff, boolean nanC, long seed) {
        float[] fast = runPacked(mr, threads, tA, tB, M, N, K, alpha, beta, aOff, bOff, cOff, nanC, seed);
        float[] ref = runPacked(0, 1, tA, tB, M, N, K, alpha, beta, aOff, bOff, cOff, nanC, seed);
        float[] c0 = runPacked(0, 1, tA, tB, M, N, K, 0f, 1f, aOff, bOff, cOff, nanC, seed);   // C as it was
        Random r = new Random(seed);
        float[] A = random(r, aOff + M * K + 3), B = random(r, bOff + K * N + 5);
        float[] scale = new float[M * N];
        Gemm.gemmReference(tA, tB, M, N, K, 1f, abs(A), aOff, abs(B), bOff, 0f, scale, 0);
        String what = "packed mr=" + mr + " threads=" + threads + " tA=" + tA + " tB=" + tB + " M=" + M + " N=" + N
                + " K=" + K + " alpha=" + alpha + " beta=" + beta + " offs=" + aOff + "," + bOff + "," + cOff;
        for (int i = 0; i < fast.length; i++) {
            int e = i - cOff;
            if (e < 0 || e >= M * N) {
                assertEquals(c0[i], fast[i], 0f, what + ": wrote outside C at index " + i);
                continue;
            }
            double cTerm = beta == 0f ? 0 : Math.abs(beta * c0[i]);
            double bound = (K + 4) * EPS * (Math.abs(alpha) * scale[e] + cTerm) + Float.MIN_NORMAL;
            double err = Math.abs((double) fast[i] - ref[i]);
            if (!(err <= bound)) {
                fail(what + ": C[" + e / N + "," + e % N + "] fast=" + fast[i] + " ref=" + ref[i]
                        + " |err|=" + err + " > bound " + bound);
            }
        }
        return fast;
    }

    @Test
    void bothMicroKernelsAndAnyThreadCountGiveBitIdenticalResults() {
        // Edge tiles of both kernels (rows around 6, 12 and several row blocks; columns around
        // one and two vector pairs), K around the KC block, every layout, and alpha/beta that
        // take the kernels' direct-to-C modes (alpha 1, beta 0 or 1) and their tile path
        // (anything else). Each run is checked against the reference (bound as in check()), and
        // all of them must agree BITWISE: each element is summed in the same order whatever
        // the tile height and the task split, which training's reproducibility relies on.
        int nr = GemmPacked.NR;
        int[][] shapes = {
                {13, nr, GemmPacked.KC},                       // one full 12-row tile (two 6-row) + a 1-row edge
                {12, 2 * nr + 1, 1},                           // exact tiles, one-column edge strip
                {25, nr - 1, GemmPacked.KC + 1},              // partial strip, two K blocks
                {2 * GemmPacked.MC + 7, 3 * nr + 5, GemmPacked.KC + 3},   // several row blocks and tasks
                {37, 17 * nr, 40},                             // more than one strip chunk
        };
        float[][] alphaBeta = {{1f, 0f}, {1f, 1f}, {1f, 0.5f}, {-1.5f, 0f}};
        long seed = 700;
        for (int[] sh : shapes) {
            for (int layout = 0; layout < 4; layout++) {
                boolean tA = (layout & 1) != 0, tB = (layout & 2) != 0;
                for (float[] ab : alphaBeta) {
                    boolean nanC = ab[1] == 0f;
                    // checked against the reference once; every other run must equal it bitwise
                    float[] first = checkPacked(GemmPacked.MR_CHOICES[0], 1, tA, tB, sh[0], sh[1], sh[2], ab[0], ab[1], 2, 3, 1, nanC, seed);
                    for (int mr : GemmPacked.MR_CHOICES) {
                        for (int threads : new int[] {1, 2, 3}) {
                            float[] c = runPacked(mr, threads, tA, tB, sh[0], sh[1], sh[2], ab[0], ab[1], 2, 3, 1, nanC, seed);
                            assertArrayEquals(first, c, 0f, "mr=" + mr + " threads=" + threads + " tA=" + tA + " tB=" + tB
                                    + " " + Arrays.toString(sh) + " alpha/beta=" + Arrays.toString(ab) + " differs bitwise from mr=" + GemmPacked.MR_CHOICES[0] + ", 1 thread");
                        }
                    }
                    seed++;
                }
            }
        }
    }

    @Test
    void packingWritesExactlyItsPanel() {
        // packAPanel / packBStrip / packBStrips against their definitions, with sentinels all around the
        // destination: the vector paths (16 x 16 or, with 8-lane vectors, 8 x 8 register
        // transposes; overlapping stores for 12-row or 6-row A panels with a masked last one)
        // must not write a float outside the panel,
        // since a neighbouring panel may be packed by another thread at the same time.
        Random r = new Random(11);
        int M = 40, K = GemmPacked.KC + 44, N = 3 * GemmPacked.NR + 7;   // K: room for the deepest block
        float[] A = random(r, M * K), B = random(r, K * N);
        for (int kc : new int[] {1, 7, 8, 9, 15, 16, 17, 32, 48, GemmPacked.KC}) {
            int pc = K - kc - 3;
            for (boolean trans : new boolean[] {false, true}) {
                for (int mr : GemmPacked.MR_CHOICES) {
                    for (int rows : new int[] {mr, mr - 1, 1}) {
                        int i0 = M - rows - 2, dst = 5;
                        float[] ap = new float[dst + kc * mr + 9];
                        Arrays.fill(ap, -7f);
                        GemmPacked.packAPanel(mr, trans, trans ? transpose(A, M, K) : A, 0, M, K, i0, rows, pc, kc, ap, dst);
                        for (int i = 0; i < ap.length; i++) {
                            int e = i - dst, p = e / mr, row = e % mr;
                            float want = e < 0 || e >= kc * mr ? -7f : row < rows ? A[(i0 + row) * K + pc + p] : 0f;
                            assertEquals(want, ap[i], 0f, "packAPanel mr=" + mr + " trans=" + trans + " rows=" + rows + " kc=" + kc + " at " + i);
                        }
                    }
                }
                int nr = GemmPacked.NR;
                for (int s = 0; s < 4; s++) {        // strips 0-2 full, 3 a 7-column edge
                    int dst = 3;
                    float[] bp = new float[dst + kc * nr + 9];
                    Arrays.fill(bp, -7f);
                    GemmPacked.packBStrip(trans, trans ? transpose(B, K, N) : B, 0, N, K, pc, kc, 0, N, s, bp, dst);
                    for (int i = 0; i < bp.length; i++) {
                        int e = i - dst, p = e / nr, j = s * nr + e % nr;
                        float want = e < 0 || e >= kc * nr ? -7f : j < N ? B[(pc + p) * N + j] : 0f;
                        assertEquals(want, bp[i], 0f, "packBStrip trans=" + trans + " strip=" + s + " kc=" + kc + " at " + i);
                    }
                }
                // Groups of strips, row by row for untransposed B: ranges with and without the edge strip.
                for (int[] range : new int[][] {{0, 4}, {0, 3}, {1, 3}, {2, 4}, {3, 4}, {1, 2}}) {
                    int s0 = range[0], s1 = range[1], dst = 3;
                    float[] bp = new float[dst + (s1 - s0) * kc * nr + 9];
                    Arrays.fill(bp, -7f);
                    GemmPacked.packBStrips(trans, trans ? transpose(B, K, N) : B, 0, N, K, pc, kc, 0, N, s0, s1, bp, dst);
                    for (int i = 0; i < bp.length; i++) {
                        int e = i - dst, s = s0 + e / (kc * nr), f = e % (kc * nr), p = f / nr, j = s * nr + f % nr;
                        float want = e < 0 || e >= (s1 - s0) * kc * nr ? -7f : j < N ? B[(pc + p) * N + j] : 0f;
                        assertEquals(want, bp[i], 0f, "packBStrips trans=" + trans + " strips " + s0 + ".." + s1 + " kc=" + kc + " at " + i);
                    }
                }
            }
        }
    }

    /** x [rows, cols] row-major -> its transpose [cols, rows] row-major. */
    static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
        return t;
    }

    @Test
    void unknownMicroKernelIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GemmPacked.gemm(8, 1, false, false, 2, 2, 2, 1f, new float[4], 0, new float[4], 0, 0f, new float[4], 0));
        assertTrue(e.getMessage().contains("8-row"), e.getMessage());
    }

    @Test
    void skinnyDecodeShapes() {
        long seed = 200;
        int[] ks = {1, 15, 16, 17, 100};
        int[] ns = {1, 3, 4, 5, 63, 64, 65, 130};
        for (int small = 1; small <= GemmSkinny.MAX; small++) {
            for (int K : ks) for (int big : ns) {
                for (int layout = 0; layout < 4; layout++) {
                    boolean tA = (layout & 1) != 0, tB = (layout & 2) != 0;
                    check(tA, tB, small, big, K, 1f, 0f, 0, 0, 0, seed++);     // few rows (decode)
                    check(tA, tB, big, small, K, 0.75f, 1f, 0, 0, 0, seed++);  // few columns (head)
                }
            }
        }
        // a long K (vector loop plus scalar tail of the dot products)
        for (int layout = 0; layout < 4; layout++) {
            check((layout & 1) != 0, (layout & 2) != 0, 5, 70, 1001, 1f, 0f, 0, 0, 0, seed++);
            check((layout & 1) != 0, (layout & 2) != 0, 70, 3, 1001, 1f, 0f, 0, 0, 0, seed++);
        }
        // around the axpy-form limit for x·W (rows in fours, groups of 2-3 and a lone row)
        for (int M : new int[] {GemmSkinny.MAX_ROWS_AXPY - 1, GemmSkinny.MAX_ROWS_AXPY, GemmSkinny.MAX_ROWS_AXPY + 1}) {
            check(false, false, M, 3 * GemmSkinny.AXPY_COLS + 5, 70, 1f, 0.5f, 0, 0, 0, seed++);
            check(true, false, M, 3 * GemmSkinny.AXPY_COLS + 5, 70, 1f, 0f, 0, 0, 0, seed++);
        }
        // around the dot-form limit for x·Wᵀ (rows in pairs, odd row, column tail)
        for (int M : new int[] {9, GemmSkinny.MAX_ROWS_DOT - 1, GemmSkinny.MAX_ROWS_DOT, GemmSkinny.MAX_ROWS_DOT + 1}) {
            check(false, true, M, 67, 100, 1f, 0.5f, 0, 0, 0, seed++);
            check(true, true, M, 67, 100, 1f, 0f, 0, 0, 0, seed++);
        }
                // large enough to go parallel
        check(false, true, 4, 3000, 512, 1f, 0f, 1, 2, 3, seed++);
        check(false, false, 4, 3000, 512, 1f, 1f, 1, 2, 3, seed++);
        check(false, false, 3000, 3, 512, 1f, 0f, 0, 0, 0, seed++);
    }

    @Test
    void alphaBetaVariants() {
        float[][] ab = {{1f, 0f}, {1f, 1f}, {0.5f, 1f}, {-2f, 0.25f}, {3f, -1f}, {0f, 0.5f}, {0f, 0f}};
        long seed = 300;
        for (float[] v : ab) {
            for (int[] s : new int[][] {{37, 45, 70}, {3, 50, 20}, {50, 5, 20}, {1, 1, 1}}) {
                for (int layout = 0; layout < 4; layout++) {
                    check((layout & 1) != 0, (layout & 2) != 0, s[0], s[1], s[2], v[0], v[1], 0, 0, 0, seed++);
                }
            }
        }
    }

    @Test
    void nonzeroOffsets() {
        long seed = 400;
        for (int[] s : new int[][] {{33, 65, 129}, {7, 100, 9}, {100, 7, 9}, {1, 129, 33}}) {
            for (int layout = 0; layout < 4; layout++) {
                check((layout & 1) != 0, (layout & 2) != 0, s[0], s[1], s[2], 1.25f, 0.5f, 5, 17, 31, seed++);
            }
        }
    }

    @Test
    void betaZeroOverwritesNaNAndAlphaZeroIgnoresAB() {
        for (int[] s : new int[][] {{3, 40, 20}, {40, 3, 20}, {40, 40, 20}, {20, 20, 0}}) {
            int M = s[0], N = s[1], K = s[2];
            for (int layout = 0; layout < 4; layout++) {
                boolean tA = (layout & 1) != 0, tB = (layout & 2) != 0;
                Random r = new Random(layout);
                float[] A = random(r, M * K), B = random(r, K * N);
                float[] c = new float[M * N];
                Arrays.fill(c, Float.NaN);
                Gemm.gemm(tA, tB, M, N, K, 1f, A, 0, B, 0, 0f, c, 0);
                float[] ref = new float[M * N];
                Gemm.gemmReference(tA, tB, M, N, K, 1f, A, 0, B, 0, 0f, ref, 0);
                for (int i = 0; i < c.length; i++) {
                    assertFalse(Float.isNaN(c[i]), "beta=0 propagated a NaN of C at " + i + " " + Arrays.toString(s));
                    assertEquals(ref[i], c[i], 1e-4f * (1 + Math.abs(ref[i])));
                }
                // alpha == 0: A and B are not read (BLAS convention), even if they hold NaN.
                float[] nanA = new float[M * K];
                Arrays.fill(nanA, Float.NaN);
                float[] c2 = new float[M * N];
                Arrays.fill(c2, 2f);
                Gemm.gemm(tA, tB, M, N, K, 0f, nanA, 0, B, 0, 0.5f, c2, 0);
                for (float x : c2) assertEquals(1f, x, 0f);
            }
        }
    }

    @Test
    void zeroSizedDimensionsDoNothing() {
        float[] c = {5f, 6f};
        Gemm.gemm(false, false, 0, 2, 3, 1f, new float[0], 0, new float[6], 0, 0f, c, 0);
        Gemm.gemm(false, false, 2, 0, 3, 1f, new float[6], 0, new float[0], 0, 0f, c, 0);
        assertArrayEquals(new float[] {5f, 6f}, c);
    }

    @Test
    void concurrentCallersAndNestedParallelGiveTheSameResult() throws Exception {
        // Thread-local packing buffers: callers on separate threads, and calls from inside the
        // shared pool, must not disturb each other.
        int M = 150, N = 170, K = 300;
        Random r = new Random(7);
        float[] A = random(r, M * K), B = random(r, K * N);
        float[] expected = new float[M * N];
        Gemm.gemm(false, false, M, N, K, 1f, A, 0, B, 0, 0f, expected, 0);
        ExecutorService ex = Executors.newFixedThreadPool(3);
        try {
            List<Future<float[]>> fs = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                boolean tB = t % 2 == 1;
                float[] Bt = new float[N * K];
                if (tB) for (int p = 0; p < K; p++) for (int j = 0; j < N; j++) Bt[j * K + p] = B[p * N + j];
                fs.add(ex.submit(() -> {
                    float[] c = new float[M * N];
                    for (int rep = 0; rep < 3; rep++) Gemm.gemm(false, tB, M, N, K, 1f, A, 0, tB ? Bt : B, 0, 0f, c, 0);
                    return c;
                }));
            }
            for (Future<float[]> f : fs) {
                float[] c = f.get();
                for (int i = 0; i < c.length; i++) assertEquals(expected[i], c[i], 1e-4f * (1 + Math.abs(expected[i])));
            }
        } finally {
            ex.shutdown();
        }
        float[][] nested = new float[4][M * N];
        Parallel.forRange(4, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) Gemm.gemm(false, false, M, N, K, 1f, A, 0, B, 0, 0f, nested[i], 0);
        });
        for (float[] c : nested) assertArrayEquals(expected, c, 0f, "same blocking, same order: bitwise equal");
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, 4, 5, 6, 1f, new float[23], 0, new float[30], 0, 0f, new float[20], 0));
        assertTrue(e.getMessage().contains("operand A") && e.getMessage().contains("[M=4,K=6]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, true, 4, 5, 6, 1f, new float[24], 0, new float[30], 1, 0f, new float[20], 0));
        assertTrue(e.getMessage().contains("operand B") && e.getMessage().contains("[N=5,K=6]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemm(false, false, -1, 5, 6, 1f, new float[24], 0, new float[30], 0, 0f, new float[20], 0));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.gemmBatched(false, false, 3, 2, 2, 2, 1f, new float[12], 0, 4, new float[4], 0, 0,
                        0f, new float[11], 0, 4));
        assertTrue(e.getMessage().contains("C (last batch entry)"), e.getMessage());
    }

    // ------------------------------------------------------------------ batched

    @Test
    void batchedMatchesReferenceForEveryStrategy() {
        long seed = 500;
        // {batch, M, N, K}; strides chosen per case below
        int[][] shapes = {{1, 33, 17, 9}, {2, 40, 50, 30}, {3, 20, 33, 65}, {8, 7, 9, 16}, {5, 129, 7, 33}, {4, 1, 64, 40}};
        for (int[] s : shapes) {
            int batch = s[0], M = s[1], N = s[2], K = s[3];
            for (int layout = 0; layout < 4; layout++) {
                boolean tA = (layout & 1) != 0, tB = (layout & 2) != 0;
                for (int bcast = 0; bcast < 3; bcast++) {     // 0: none, 1: B shared, 2: A shared
                    int strideA = bcast == 2 ? 0 : M * K + (layout == 3 ? 3 : 0);
                    int strideB = bcast == 1 ? 0 : K * N + 1;
                    int strideC = M * N + (bcast == 0 ? 2 : 0);
                    checkBatched(tA, tB, batch, M, N, K, 0.5f, bcast == 0 ? 1f : 0f, 4, strideA, 6, strideB, 3, strideC, seed++);
                }
            }
        }
    }

    @Test
    void batchedWithSharedCAccumulatesInOrder() {
        // strideC = 0, beta = 1: C += sum_i A_i · B_i (e.g. a weight gradient summed over a batch).
        long seed = 600;
        for (int[] s : new int[][] {{4, 30, 40, 50}, {6, 3, 100, 20}, {2, 70, 5, 33}}) {
            for (int layout = 0; layout < 4; layout++) {
                int batch = s[0], M = s[1], N = s[2], K = s[3];
                checkBatched((layout & 1) != 0, (layout & 2) != 0, batch, M, N, K, 1f, 1f, 2, M * K, 1, K * N, 5, 0, seed++);
            }
        }
    }

        static void checkBatched(boolean tA, boolean tB, int batch, int M, int N, int K, float alpha, float beta,
                             int aOff, int strideA, int bOff, int strideB, int cOff, int strideC, long seed) {
        Random r = new Random(seed);
        float[] A = random(r, aOff + (batch - 1) * strideA + M * K);
        float[] B = random(r, bOff + (batch - 1) * strideB + K * N);
        float[] c0 = random(r, cOff + (batch - 1) * strideC + M * N + 2);
        float[] fast = c0.clone(), ref = c0.clone();
        Gemm.gemmBatched(tA, tB, batch, M, N, K, alpha, A, aOff, strideA, B, bOff, strideB, beta, fast, cOff, strideC);
        Gemm.gemmBatchedReference(tA, tB, batch, M, N, K, alpha, A, aOff, strideA, B, bOff, strideB, beta, ref, cOff, strideC);
        // reference entry by entry: the batched reference must equal per-entry reference calls
        float[] perEntry = c0.clone();
        for (int i = 0; i < batch; i++) {
            Gemm.gemmReference(tA, tB, M, N, K, alpha, A, aOff + i * strideA, B, bOff + i * strideB, beta, perEntry, cOff + i * strideC);
        }
        assertArrayEquals(perEntry, ref, 0f);
        // Disjoint C entries: per-element bound as in check(). A shared C (strideC = 0, beta = 1)
        // takes batch successive updates, each within (K + 4) eps of |C so far| + |alpha| S_i,
        // so we allow batch * (K + 4) * eps * (|c0| + sum_i |alpha| S_i).
        boolean shared = strideC < M * N;
        float[] scale = shared ? abs(c0) : new float[c0.length];
        Gemm.gemmBatchedReference(tA, tB, batch, M, N, K, shared ? Math.abs(alpha) : 1f, abs(A), aOff, strideA,
                abs(B), bOff, strideB, shared ? 1f : 0f, scale, cOff, strideC);
        boolean[] inC = new boolean[c0.length];
        for (int i = 0; i < batch; i++) Arrays.fill(inC, cOff + i * strideC, cOff + i * strideC + M * N, true);
        String what = "batched tA=" + tA + " tB=" + tB + " batch=" + batch + " M=" + M + " N=" + N + " K=" + K
                + " strides=" + strideA + "," + strideB + "," + strideC;
        for (int i = 0; i < fast.length; i++) {
            if (!inC[i]) {
                assertEquals(c0[i], fast[i], 0f, what + ": wrote outside every C entry at " + i);
                continue;
            }
            double bound = shared ? batch * (K + 4) * EPS * scale[i] + Float.MIN_NORMAL
                    : (K + 4) * EPS * (Math.abs(alpha) * scale[i] + Math.abs(beta * c0[i])) + Float.MIN_NORMAL;
            assertTrue(Math.abs((double) fast[i] - ref[i]) <= bound,
                    what + ": index " + i + " fast=" + fast[i] + " ref=" + ref[i] + " bound=" + bound);
        }
    }
}

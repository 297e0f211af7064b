package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Cache-blocked GEMM (GotoBLAS/BLIS style) with a register-tiled Vector API micro-kernel:
 * C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C.
 *
 * <pre>
 * for jc in N step nc                 B panel: K x nc floats, at most 16 MiB
 *   pack op(B)[0:K, jc:jc+nc] into NR-wide strips, one set per KC block     (parallel, shared)
 *   for ic in M step mc               A panel: mc x K floats, at most 16 MiB
 *     pack op(A)[ic:ic+mc, 0:K] into MR-row panels, one set per KC block    (parallel, shared)
 *     tasks = (row block, at most MC) x (strip chunk, at most 512 columns) of C, split evenly
 *             into a multiple of the thread count                 (threads take tasks in turn)
 *       for pc in K step KC           the task's C block (MC x 16 strips) stays in L2
 *         for each B strip (KC x NR, stays in L1)
 *           for each A panel of the block (MR x KC; the block, MC x KC, stays in L2)
 *             micro-kernel: MR x NR tile in registers, KC rank-1 updates; then merge into C
 * </pre>
 * MR x NR is 12 x 32 with AVX-512 (6 x 16 with 8-lane AVX2 vectors). Every element of C is summed
 * in one fixed order whatever the thread count and task split (p ascending within a K block
 * from zero, then merged into C, K blocks in order), so results are bit-identical across runs,
 * thread counts and JIT states.
 * For the shapes of a transformer layer both panels cover the whole matrix, so each element of
 * A and B is packed exactly once per call. Both are packed so the kernel reads each operand as
 * one sequential stream: B because its rows sit a full row apart (4 KiB for N = 1024) and a
 * strip read in place would map onto a couple of L1 sets and evict itself; A because reading
 * MR separate row streams ran the kernel at half speed. Transposes are handled by the packing
 * (op(B) = Bᵀ by 16 x 16 register transposes), so the one kernel serves all four layouts.
 * Packing zero-pads edge panels, so the kernel always runs a full tile and the merge writes
 * only the valid part of C.
 */
final class GemmPacked {
    private GemmPacked() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();

    /**
     * Micro-tile: MR rows x NR = 2 vectors. With 16-lane AVX-512 vectors that is 12 x 32:
     * 24 accumulator registers + 2 for B + 1-3 broadcasts of A = 27-29 of the 32 zmm registers
     * (C2 keeps all of them in registers: checked on the disassembled loop, no spills), and 24
     * FMAs per 2 vector loads + 12 broadcast loads, where a 6 x 32 tile spends 8 loads and the
     * same loop overhead on only 12 FMAs (the tile sizes compared are in docs/benchmarks.md).
     * Narrower vectors (AVX2: 8 lanes, only 16 ymm registers) use the 6-row tile of
     * {@link #kernel6}, which fits them with a trick.
     */
    static final int MR = V >= 16 ? 12 : 6;
    static final int NR = 2 * V;
    /** The micro-kernels there are: {@link #kernel6} and {@link #kernel12}. */
    static final int[] MR_CHOICES = {6, 12};

    /**
     * Depth of a K block: one packed B strip (KC x NR floats = 32 KiB at NR = 32, 16 KiB at
     * AVX2's NR = 16) fits L1d (48 KiB; 32 KiB on the AVX2 machine). KC also fixes the summation
     * order of every GEMM deeper than KC, so changing it changes every trained model's bits (the
     * quickstart's recipe was tuned on KC = 256); the other values measured are in docs/benchmarks.md.
     */
    static final int KC = 256;

    /**
     * Most rows of C per task: its block of packed A (MC x KC floats = 120 KiB) stays in L2
     * (2 MiB; 512 KiB on the AVX2 machine). A multiple of every MR in {@link #MR_CHOICES}.
     */
    static final int MC = 120;

    /**
     * Most B strips per task: 16 x NR = 512 columns with AVX-512, 256 with AVX2. The task's C
     * block (120 x 512 or 120 x 256 floats = 240 or 120 KiB) stays in L2 across K blocks.
     */
    static final int STRIPS_PER_TASK = 16;

    /** Most floats of packed B per column panel, and of packed A per row panel (16 MiB each): bounds the thread-local buffers; panels live in L3. */
    static final int B_PANEL_FLOATS = 4 << 20;
    static final int A_PANEL_FLOATS = 4 << 20;

    /** Below this many flops a call runs on the calling thread: forking would cost more than it saves. */
    static final long PARALLEL_MIN_FLOPS = 1L << 21;

    /** Per-thread buffers, grown on demand and reused, so training steps do not allocate. */
    private static final class Buffers {
        float[] a = new float[0];                    // packed A panel \ of the calling thread only;
        float[] b = new float[0];                    // packed B panel / workers just read them
        final float[] tile = new float[12 * NR];     // one C tile, between kernel and merge

        float[] a(int n) { if (a.length < n) a = new float[n]; return a; }
        float[] b(int n) { if (b.length < n) b = new float[n]; return b; }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                     float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        boolean parallel = 2L * M * N * K >= PARALLEL_MIN_FLOPS && Parallel.threads() > 1;
        gemm(MR, parallel ? Parallel.threads() : 1, transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
    }

    /**
     * The packed GEMM with an explicit micro-tile height mr (one of {@link #MR_CHOICES}) and
     * number of workers (1: everything on the calling thread). Tests call it directly, to run
     * both kernels on any machine and to check that the result does not depend on the thread
     * count: each element of C is summed in the same order whatever the task split (one
     * register lane per element, p ascending within a K block, K blocks in order).
     */
    static void gemm(int mr, int threads, boolean transA, boolean transB, int M, int N, int K, float alpha,
                     float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        if (mr != 6 && mr != 12) throw new IllegalArgumentException("GemmPacked: no " + mr + "-row micro-kernel");
        boolean parallel = threads > 1;
        int kBlocks = ceilDiv(K, KC);
        // Widest panels whose packing fits the budget: nc a multiple of NR, mc of MC.
        int ncMax = Math.max(NR, Math.min(roundUp(N, NR), B_PANEL_FLOATS / K / NR * NR));
        int mcMax = Math.max(MC, Math.min(roundUp(M, MC), A_PANEL_FLOATS / K / MC * MC));
        Buffers own = BUFFERS.get();
        float[] bp = own.b(K * ncMax), ap = own.a(K * roundUp(Math.min(M, mcMax), mr));
        for (int jc = 0; jc < N; jc += ncMax) {
            int nc = Math.min(ncMax, N - jc), strips = ceilDiv(nc, NR), ncPad = strips * NR;
            int jc0 = jc;
            // B panel: K block pb starts at bp[pb * KC * ncPad], strip s of it kc * NR later.
            // When all of op(A) is one panel (every transformer shape), it is packed once, in
            // the same parallel pass as the first B panel: one fork-join fewer per call.
            // B items: a K block's strips in groups of B_GROUP (see packBStrips).
            int groups = ceilDiv(strips, B_GROUP), bItems = kBlocks * groups;
            int aOnce = M <= mcMax && jc == 0 ? kBlocks * ceilDiv(M, mr) : 0;
            run(parallel, bItems + aOnce, 8, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    if (i >= bItems) {
                        packAItem(mr, transA, A, aOff, M, K, 0, M, i - bItems, ap);
                        continue;
                    }
                    int pc = i / groups * KC, s0 = i % groups * B_GROUP, kc = Math.min(KC, K - pc);
                    packBStrips(transB, B, bOff, N, K, pc, kc, jc0, nc, s0, Math.min(strips, s0 + B_GROUP), bp,
                            pc * ncPad + s0 * kc * NR);
                }
            });
            for (int ic = 0; ic < M; ic += mcMax) {
                int mc = Math.min(mcMax, M - ic), panels = ceilDiv(mc, mr), mcPad = panels * mr;
                int ic0 = ic;
                if (M > mcMax) {
                    run(parallel, kBlocks * panels, 16, (i0, i1) -> {
                        for (int i = i0; i < i1; i++) packAItem(mr, transA, A, aOff, M, K, ic0, mc, i, ap);
                    });
                }
                TaskGrid grid = TaskGrid.of(mr, panels, strips, parallel ? threads : 1);
                int tasks = grid.tasks();
                AtomicInteger next = new AtomicInteger();
                Parallel.RangeBody worker = (w0, w1) -> {
                    float[] tile = BUFFERS.get().tile;
                    for (int t; (t = next.getAndIncrement()) < tasks; ) {
                        int r0 = grid.firstPanel(t) * mr, rows = Math.min(grid.endPanel(t) * mr, mc) - r0;
                        computeBlock(mr, K, alpha, beta, C, cOff + (ic0 + r0) * N, N, ap, mcPad, r0, rows,
                                bp, ncPad, jc0, nc, grid.firstStrip(t), grid.endStrip(t), tile);
                    }
                };
                int workers = parallel ? Math.min(threads, tasks) : 1;
                if (workers > 1) Parallel.forWorkers(workers, worker);
                else worker.run(0, 1);
            }
        }
    }

    /**
     * Packing item i of the A panel op(A)[ic:ic+mc, 0:K] (panels = ceil(mc / mr) items per K
     * block): K block pb starts at ap[pb * KC * mcPad], mr-row panel q of it q * mr * kc later.
     */
    private static void packAItem(int mr, boolean transA, float[] A, int aOff, int M, int K, int ic, int mc, int i, float[] ap) {
        int panels = ceilDiv(mc, mr), mcPad = panels * mr;
        int pc = i / panels * KC, q = i % panels, kc = Math.min(KC, K - pc);
        int rows = Math.min(mr, mc - q * mr);
        packAPanel(mr, transA, A, aOff, M, K, ic + q * mr, rows, pc, kc, ap, pc * mcPad + q * mr * kc);
    }

    /** Runs body over [0, n) on the pool (chunks of at least grain) or on this thread. */
    private static void run(boolean parallel, int n, int grain, Parallel.RangeBody body) {
        if (parallel) Parallel.forRange(n, grain, body);
        else body.run(0, n);
    }

    /**
     * The tasks of one (A panel, B panel) pair: a grid of (row block) x (strip chunk) of C, each
     * row block at most MC rows and each chunk at most STRIPS_PER_TASK strips, both split as
     * evenly as whole panels and strips allow. With several workers the grid gets a multiple of
     * `threads` cells of (nearly) equal work, so no worker is left with a lone last task; workers
     * take tasks in turn (a slow or preempted one takes fewer). Task t is row block t / nChunks,
     * chunk t % nChunks.
     */
    record TaskGrid(int panels, int strips, int mBlocks, int nChunks) {
        static TaskGrid of(int mr, int panels, int strips, int threads) {
            int nChunks = ceilDiv(strips, STRIPS_PER_TASK);
            int mBlocks = ceilDiv(panels, MC / mr);
            if (threads > 1) {
                while ((mBlocks * nChunks) % threads != 0 && mBlocks < panels) mBlocks++;
                while ((mBlocks * nChunks) % threads != 0 && nChunks < strips) nChunks++;
            }
            return new TaskGrid(panels, strips, mBlocks, nChunks);
        }

        int tasks() { return mBlocks * nChunks; }
        int firstPanel(int t) { return (int) ((long) (t / nChunks) * panels / mBlocks); }
        int endPanel(int t) { return (int) ((long) (t / nChunks + 1) * panels / mBlocks); }
        int firstStrip(int t) { return (int) ((long) (t % nChunks) * strips / nChunks); }
        int endStrip(int t) { return (int) ((long) (t % nChunks + 1) * strips / nChunks); }
    }

    /** How a 12-row kernel call leaves its tile: see {@link #kernel12}. */
    static final int TO_TILE = 0, OVERWRITE = 1, ACCUMULATE = 2;

    /**
     * Rows [r0, r0+rows) of the A panel times strips [s0, s1) of the B panel, over all of K, a
     * KC block at a time; c is where row r0, column 0 of the panel pair sits in C.
     */
    static void computeBlock(int mr, int K, float alpha, float beta, float[] C, int c, int ldc,
                             float[] ap, int mcPad, int r0, int rows,
                             float[] bp, int ncPad, int jc, int nc, int s0, int s1, float[] tile) {
        for (int pc = 0; pc < K; pc += KC) {
            int kc = Math.min(KC, K - pc);
            float betaK = pc == 0 ? beta : 1f;          // later K blocks accumulate onto C
            int aBlock = pc * mcPad + r0 * kc, bBlock = pc * ncPad;
            for (int s = s0; s < s1; s++) {
                int j = jc + s * NR, cols = Math.min(NR, jc + nc - j);
                int b = bBlock + s * kc * NR;
                for (int q = 0; q < rows; q += mr) {
                    int tileRows = Math.min(mr, rows - q), ct = c + q * ldc + j;
                    // Full tiles with alpha == 1 and beta 0 or 1 (forward passes, gradient
                    // accumulation, every K block after the first) go straight into C.
                    int mode = tileRows == mr && cols == NR && alpha == 1f && (betaK == 0f || betaK == 1f)
                            ? (betaK == 0f ? OVERWRITE : ACCUMULATE) : TO_TILE;
                    kernel(mr, kc, ap, aBlock + q * kc, bp, b, tile, mode, C, ct, ldc);
                    if (mode == TO_TILE) storeTile(tile, tileRows, cols, alpha, betaK, C, ct, ldc);
                }
            }
        }
    }

    /** The mr-row micro-kernel ({@link #kernel12} or {@link #kernel6}) on one tile. */
    static void kernel(int mr, int kc, float[] ap, int a, float[] bp, int b, float[] tile, int mode, float[] C, int c, int ldc) {
        if (mr == 12) kernel12(kc, ap, a, bp, b, tile, mode, C, c, ldc);
        else kernel6(kc, ap, a, bp, b, tile, mode, C, c, ldc);
    }

    /**
     * Packs one mr-row panel of op(A), rows [i0, i0+rows) x columns [pc, pc+kc), K-major:
     * ap[dst + p*mr + r] = op(A)[i0+r, pc+p]; rows past `rows` are zero. op(A)[i, p] is
     * A[i*K + p], or A[p*M + i] when transA. Untransposed full 12-row panels go 16 values of p
     * at a time through {@link #transpose16} (12 rows read as vectors, 4 zero rows); the rest
     * is plain scalar loops.
     */
    static void packAPanel(int mr, boolean transA, float[] A, int aOff, int M, int K, int i0, int rows, int pc, int kc,
                           float[] ap, int dst) {
        if (!transA) {
            int p0 = 0;
            if (V == 16 && mr == 12 && rows == 12) {
                // Column p of the block lands at ap[dst + p*12]: 16-lane stores overlap by 4
                // lanes (zeros, rewritten by the next store); the panel's last one is masked
                // so it cannot spill into the next panel, which another thread may be packing.
                for (; p0 + 16 <= kc; p0 += 16) {
                    transpose16(A, aOff + i0 * K + pc + p0, K, 12, ap, dst + p0 * 12, 12, p0 + 16 == kc);
                }
            } else if (V == 8 && mr == 6 && rows == 6) {
                // The same with 8 x 8 transposes: 6 rows read, 8-lane stores overlapping by 2.
                for (; p0 + 8 <= kc; p0 += 8) {
                    transpose8(A, aOff + i0 * K + pc + p0, K, 6, ap, dst + p0 * 6, 6, p0 + 8 == kc);
                }
            }
            // mr row streams; 16 values of p at a time so the written lines stay in L1.
            for (int pb = p0; pb < kc; pb += 16) {
                int pe = Math.min(kc, pb + 16);
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (i0 + r) * K + pc;
                    for (int p = pb; p < pe; p++) ap[dst + p * mr + r] = A[src + p];
                }
                for (int r = rows; r < mr; r++) {
                    for (int p = pb; p < pe; p++) ap[dst + p * mr + r] = 0f;
                }
            }
        } else {
            // op(A) column p is contiguous in A: mr consecutive floats per p. Full panels copy
            // them as one vector whose last V - mr lanes spill into the next p's slot, rewritten
            // by the next store (the weight gradients x^T dy take this path; as a scalar loop it
            // was ~6% of a training step); the panel's last p is copied scalar, so nothing is
            // written past the panel, and a vector never reads past A.
            int p = 0;
            if (rows == mr && V > mr && V - mr <= mr) {
                for (; p + 1 < kc && aOff + (pc + p) * M + i0 + V <= A.length; p++) {
                    FloatVector.fromArray(S, A, aOff + (pc + p) * M + i0).intoArray(ap, dst + p * mr);
                }
            }
            for (; p < kc; p++) {
                int src = aOff + (pc + p) * M + i0, d = dst + p * mr;
                for (int r = 0; r < rows; r++) ap[d + r] = A[src + r];
                for (int r = rows; r < mr; r++) ap[d + r] = 0f;
            }
        }
    }

    /**
     * Strips per B packing item: a row of B is read 16 strips (1 or 2 KiB) at a time, see
     * {@link #packBStrips}.
     */
    static final int B_GROUP = 16;

    /**
     * Packs strips [s0, s1) of op(B)[pc:pc+kc, jc:jc+nc], strip s at bp[dst + (s - s0) * kc * NR]
     * (each as {@link #packBStrip} lays it out). Untransposed B is copied row by row across the
     * strips, so the source is read as s1 - s0 strips' worth of one contiguous row at a time:
     * strip by strip it is read one 64-byte piece per row, rows a whole row of B apart, a page
     * per row for N = 1024 (no hardware prefetch across pages, a TLB miss per row). Measured here
     * on a 1024 x 1024 B not in cache: 1.2-1.5 ms strip by strip, 0.8 ms in groups of 16 strips.
     * A transposed B is packed strip by strip (each strip column is a contiguous row of B).
     */
    static void packBStrips(boolean transB, float[] B, int bOff, int N, int K, int pc, int kc, int jc, int nc,
                            int s0, int s1, float[] bp, int dst) {
        int full = Math.max(s0, Math.min(s1, nc / NR));  // strips [s0, full) have all NR columns
        if (transB || full == s0) {
            for (int s = s0; s < s1; s++) packBStrip(transB, B, bOff, N, K, pc, kc, jc, nc, s, bp, dst + (s - s0) * kc * NR);
            return;
        }
        int stripFloats = kc * NR;
        for (int p = 0; p < kc; p++) {
            int src = bOff + (pc + p) * N + jc + s0 * NR, d = dst + p * NR;
            for (int s = s0; s < full; s++, src += NR, d += stripFloats) {
                for (int c = 0; c < NR; c += V) FloatVector.fromArray(S, B, src + c).intoArray(bp, d + c);
            }
        }
        for (int s = full; s < s1; s++) packBStrip(false, B, bOff, N, K, pc, kc, jc, nc, s, bp, dst + (s - s0) * stripFloats);
    }

    /**
     * Packs strip s of op(B)[pc:pc+kc, jc:jc+nc] into bp[dst..]: kc rows of NR floats, columns
     * past the panel zero. op(B)[p, j] is B[p*N + j], or B[j*K + p] when transB.
     */
    static void packBStrip(boolean transB, float[] B, int bOff, int N, int K, int pc, int kc, int jc, int nc,
                           int s, float[] bp, int dst) {
        int j0 = jc + s * NR, cols = Math.min(NR, jc + nc - j0);
        if (!transB) {
            for (int p = 0; p < kc; p++, dst += NR) {
                int src = bOff + (pc + p) * N + j0;
                if (cols == NR) {
                    for (int c = 0; c < NR; c += V) FloatVector.fromArray(S, B, src + c).intoArray(bp, dst + c);
                } else {
                    for (int c = 0; c < cols; c++) bp[dst + c] = B[src + c];
                    for (int c = cols; c < NR; c++) bp[dst + c] = 0f;
                }
            }
        } else {
            // B is [N, K]: a transpose. Full 16 x 16 blocks in registers, the rest scalar
            // (each column of op(B) is read contiguously and written with stride NR).
            int p0 = 0;
            if (V == 16 && cols == NR) {
                for (; p0 + 16 <= kc; p0 += 16) {
                    for (int c = 0; c < NR; c += 16) {
                        transpose16(B, bOff + (j0 + c) * K + pc + p0, K, 16, bp, dst + p0 * NR + c, NR, false);
                    }
                }
            } else if (V == 8 && cols == NR) {
                for (; p0 + 8 <= kc; p0 += 8) {
                    for (int c = 0; c < NR; c += 8) {
                        transpose8(B, bOff + (j0 + c) * K + pc + p0, K, 8, bp, dst + p0 * NR + c, NR, false);
                    }
                }
            }
            for (int c = 0; c < cols; c++) {
                int src = bOff + (j0 + c) * K + pc;
                for (int p = p0; p < kc; p++) bp[dst + p * NR + c] = B[src + p];
            }
            for (int c = cols; c < NR; c++) {
                for (int p = p0; p < kc; p++) bp[dst + p * NR + c] = 0f;
            }
        }
    }

    // Permutes and masks of transpose16: level h moves lanes by h within groups of 2h lanes.
    private static final VectorShuffle<Float> DOWN8 = shifted(8, true), UP8 = shifted(8, false);
    private static final VectorShuffle<Float> DOWN4 = shifted(4, true), UP4 = shifted(4, false);
    private static final VectorShuffle<Float> DOWN2 = shifted(2, true), UP2 = shifted(2, false);
    private static final VectorShuffle<Float> DOWN1 = shifted(1, true), UP1 = shifted(1, false);
    /** The first 12 lanes (only used with 16-lane vectors), the first 6 (only with 8-lane ones). */
    private static final VectorMask<Float> FIRST12 = VectorMask.fromLong(S, 0xFFFL), FIRST6 = VectorMask.fromLong(S, 0x3FL);
    private static final VectorMask<Float> HIGH8 = high(8), HIGH4 = high(4), HIGH2 = high(2), HIGH1 = high(1);

    /** Lane L of the result takes lane L - h (down) or L + h (up) where that stays in L's group of 2h. */
    private static VectorShuffle<Float> shifted(int h, boolean down) {
        int[] idx = new int[V];
        for (int L = 0; L < V; L++) {
            int o = L % (2 * h);
            idx[L] = down ? (o >= h ? L - h : L) : (o < h ? L + h : L);
            if (idx[L] >= V) idx[L] = L;     // h = 8 with 8-lane vectors: unused (transpose8 starts at h = 4)
        }
        return VectorShuffle.fromValues(S, idx);
    }

    /** The upper h lanes of every group of 2h lanes. */
    private static VectorMask<Float> high(int h) {
        boolean[] b = new boolean[V];
        for (int L = 0; L < V; L++) b[L] = L % (2 * h) >= h;
        return VectorMask.fromArray(S, b, 0);
    }

    /**
     * 16 x 16 transpose in registers: row c of the block is B[src + c*ld .. +16) for c < rows
     * (rows 12 or 16; rows past it are zeros and not read); writes lane c of row p to
     * bp[dst + p*stride + c] for p, c < 16, rows p in order, the last one only in its first 12
     * lanes when maskLast. (For op(B) = Bᵀ, row c is 16 values of p for column c; for op(A),
     * row c is 16 values of p of row c.) Four levels h = 8, 4, 2, 1:
     * rows i and i+h swap their off-diagonal h x h blocks (lo = x.blend(y shifted down by h),
     * hi = (x shifted up by h).blend(y)), which transposes every 2h x 2h block in place.
     * Only for V == 16; ~1.6x faster here than the scalar loop (0.26 vs 0.42 ns per float).
     */
    private static void transpose16(float[] B, int src, int ld, int rows, float[] bp, int dst, int stride, boolean maskLast) {
        FloatVector r0 = FloatVector.fromArray(S, B, src), r1 = FloatVector.fromArray(S, B, src + 1 * ld), r2 = FloatVector.fromArray(S, B, src + 2 * ld), r3 = FloatVector.fromArray(S, B, src + 3 * ld);
        FloatVector r4 = FloatVector.fromArray(S, B, src + 4 * ld), r5 = FloatVector.fromArray(S, B, src + 5 * ld), r6 = FloatVector.fromArray(S, B, src + 6 * ld), r7 = FloatVector.fromArray(S, B, src + 7 * ld);
        FloatVector r8 = FloatVector.fromArray(S, B, src + 8 * ld), r9 = FloatVector.fromArray(S, B, src + 9 * ld), r10 = FloatVector.fromArray(S, B, src + 10 * ld), r11 = FloatVector.fromArray(S, B, src + 11 * ld);
        FloatVector zero = FloatVector.zero(S);
        FloatVector r12 = rows > 12 ? FloatVector.fromArray(S, B, src + 12 * ld) : zero, r13 = rows > 13 ? FloatVector.fromArray(S, B, src + 13 * ld) : zero;
        FloatVector r14 = rows > 14 ? FloatVector.fromArray(S, B, src + 14 * ld) : zero, r15 = rows > 15 ? FloatVector.fromArray(S, B, src + 15 * ld) : zero;
        FloatVector t0 = r0.blend(r8.rearrange(DOWN8), HIGH8), t8 = r0.rearrange(UP8).blend(r8, HIGH8);
        FloatVector t1 = r1.blend(r9.rearrange(DOWN8), HIGH8), t9 = r1.rearrange(UP8).blend(r9, HIGH8);
        FloatVector t2 = r2.blend(r10.rearrange(DOWN8), HIGH8), t10 = r2.rearrange(UP8).blend(r10, HIGH8);
        FloatVector t3 = r3.blend(r11.rearrange(DOWN8), HIGH8), t11 = r3.rearrange(UP8).blend(r11, HIGH8);
        FloatVector t4 = r4.blend(r12.rearrange(DOWN8), HIGH8), t12 = r4.rearrange(UP8).blend(r12, HIGH8);
        FloatVector t5 = r5.blend(r13.rearrange(DOWN8), HIGH8), t13 = r5.rearrange(UP8).blend(r13, HIGH8);
        FloatVector t6 = r6.blend(r14.rearrange(DOWN8), HIGH8), t14 = r6.rearrange(UP8).blend(r14, HIGH8);
        FloatVector t7 = r7.blend(r15.rearrange(DOWN8), HIGH8), t15 = r7.rearrange(UP8).blend(r15, HIGH8);
        FloatVector u0 = t0.blend(t4.rearrange(DOWN4), HIGH4), u4 = t0.rearrange(UP4).blend(t4, HIGH4);
        FloatVector u1 = t1.blend(t5.rearrange(DOWN4), HIGH4), u5 = t1.rearrange(UP4).blend(t5, HIGH4);
        FloatVector u2 = t2.blend(t6.rearrange(DOWN4), HIGH4), u6 = t2.rearrange(UP4).blend(t6, HIGH4);
        FloatVector u3 = t3.blend(t7.rearrange(DOWN4), HIGH4), u7 = t3.rearrange(UP4).blend(t7, HIGH4);
        FloatVector u8 = t8.blend(t12.rearrange(DOWN4), HIGH4), u12 = t8.rearrange(UP4).blend(t12, HIGH4);
        FloatVector u9 = t9.blend(t13.rearrange(DOWN4), HIGH4), u13 = t9.rearrange(UP4).blend(t13, HIGH4);
        FloatVector u10 = t10.blend(t14.rearrange(DOWN4), HIGH4), u14 = t10.rearrange(UP4).blend(t14, HIGH4);
        FloatVector u11 = t11.blend(t15.rearrange(DOWN4), HIGH4), u15 = t11.rearrange(UP4).blend(t15, HIGH4);
        FloatVector v0 = u0.blend(u2.rearrange(DOWN2), HIGH2), v2 = u0.rearrange(UP2).blend(u2, HIGH2);
        FloatVector v1 = u1.blend(u3.rearrange(DOWN2), HIGH2), v3 = u1.rearrange(UP2).blend(u3, HIGH2);
        FloatVector v4 = u4.blend(u6.rearrange(DOWN2), HIGH2), v6 = u4.rearrange(UP2).blend(u6, HIGH2);
        FloatVector v5 = u5.blend(u7.rearrange(DOWN2), HIGH2), v7 = u5.rearrange(UP2).blend(u7, HIGH2);
        FloatVector v8 = u8.blend(u10.rearrange(DOWN2), HIGH2), v10 = u8.rearrange(UP2).blend(u10, HIGH2);
        FloatVector v9 = u9.blend(u11.rearrange(DOWN2), HIGH2), v11 = u9.rearrange(UP2).blend(u11, HIGH2);
        FloatVector v12 = u12.blend(u14.rearrange(DOWN2), HIGH2), v14 = u12.rearrange(UP2).blend(u14, HIGH2);
        FloatVector v13 = u13.blend(u15.rearrange(DOWN2), HIGH2), v15 = u13.rearrange(UP2).blend(u15, HIGH2);
        FloatVector w0 = v0.blend(v1.rearrange(DOWN1), HIGH1), w1 = v0.rearrange(UP1).blend(v1, HIGH1);
        FloatVector w2 = v2.blend(v3.rearrange(DOWN1), HIGH1), w3 = v2.rearrange(UP1).blend(v3, HIGH1);
        FloatVector w4 = v4.blend(v5.rearrange(DOWN1), HIGH1), w5 = v4.rearrange(UP1).blend(v5, HIGH1);
        FloatVector w6 = v6.blend(v7.rearrange(DOWN1), HIGH1), w7 = v6.rearrange(UP1).blend(v7, HIGH1);
        FloatVector w8 = v8.blend(v9.rearrange(DOWN1), HIGH1), w9 = v8.rearrange(UP1).blend(v9, HIGH1);
        FloatVector w10 = v10.blend(v11.rearrange(DOWN1), HIGH1), w11 = v10.rearrange(UP1).blend(v11, HIGH1);
        FloatVector w12 = v12.blend(v13.rearrange(DOWN1), HIGH1), w13 = v12.rearrange(UP1).blend(v13, HIGH1);
        FloatVector w14 = v14.blend(v15.rearrange(DOWN1), HIGH1), w15 = v14.rearrange(UP1).blend(v15, HIGH1);
        w0.intoArray(bp, dst + 0 * stride);
        w1.intoArray(bp, dst + 1 * stride);
        w2.intoArray(bp, dst + 2 * stride);
        w3.intoArray(bp, dst + 3 * stride);
        w4.intoArray(bp, dst + 4 * stride);
        w5.intoArray(bp, dst + 5 * stride);
        w6.intoArray(bp, dst + 6 * stride);
        w7.intoArray(bp, dst + 7 * stride);
        w8.intoArray(bp, dst + 8 * stride);
        w9.intoArray(bp, dst + 9 * stride);
        w10.intoArray(bp, dst + 10 * stride);
        w11.intoArray(bp, dst + 11 * stride);
        w12.intoArray(bp, dst + 12 * stride);
        w13.intoArray(bp, dst + 13 * stride);
        w14.intoArray(bp, dst + 14 * stride);
        if (maskLast) w15.intoArray(bp, dst + 15 * stride, FIRST12);
        else w15.intoArray(bp, dst + 15 * stride);
    }


    /**
     * 8 x 8 transpose in registers, {@link #transpose16} for 8-lane (AVX2) vectors: row c of
     * the block is B[src + c*ld .. +8) for c < rows (rows 6 or 8; the others are zeros, not
     * read); lane c of result row p goes to bp[dst + p*stride + c], the last row only in its
     * first 6 lanes when maskLast. Levels h = 4, 2, 1 as in transpose16. Only for V == 8.
     */
    private static void transpose8(float[] B, int src, int ld, int rows, float[] bp, int dst, int stride, boolean maskLast) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector r0 = FloatVector.fromArray(S, B, src), r1 = FloatVector.fromArray(S, B, src + ld);
        FloatVector r2 = FloatVector.fromArray(S, B, src + 2 * ld), r3 = FloatVector.fromArray(S, B, src + 3 * ld);
        FloatVector r4 = FloatVector.fromArray(S, B, src + 4 * ld), r5 = FloatVector.fromArray(S, B, src + 5 * ld);
        FloatVector r6 = rows > 6 ? FloatVector.fromArray(S, B, src + 6 * ld) : zero, r7 = rows > 7 ? FloatVector.fromArray(S, B, src + 7 * ld) : zero;
        FloatVector u0 = r0.blend(r4.rearrange(DOWN4), HIGH4), u4 = r0.rearrange(UP4).blend(r4, HIGH4);
        FloatVector u1 = r1.blend(r5.rearrange(DOWN4), HIGH4), u5 = r1.rearrange(UP4).blend(r5, HIGH4);
        FloatVector u2 = r2.blend(r6.rearrange(DOWN4), HIGH4), u6 = r2.rearrange(UP4).blend(r6, HIGH4);
        FloatVector u3 = r3.blend(r7.rearrange(DOWN4), HIGH4), u7 = r3.rearrange(UP4).blend(r7, HIGH4);
        FloatVector v0 = u0.blend(u2.rearrange(DOWN2), HIGH2), v2 = u0.rearrange(UP2).blend(u2, HIGH2);
        FloatVector v1 = u1.blend(u3.rearrange(DOWN2), HIGH2), v3 = u1.rearrange(UP2).blend(u3, HIGH2);
        FloatVector v4 = u4.blend(u6.rearrange(DOWN2), HIGH2), v6 = u4.rearrange(UP2).blend(u6, HIGH2);
        FloatVector v5 = u5.blend(u7.rearrange(DOWN2), HIGH2), v7 = u5.rearrange(UP2).blend(u7, HIGH2);
        v0.blend(v1.rearrange(DOWN1), HIGH1).intoArray(bp, dst);
        v0.rearrange(UP1).blend(v1, HIGH1).intoArray(bp, dst + stride);
        v2.blend(v3.rearrange(DOWN1), HIGH1).intoArray(bp, dst + 2 * stride);
        v2.rearrange(UP1).blend(v3, HIGH1).intoArray(bp, dst + 3 * stride);
        v4.blend(v5.rearrange(DOWN1), HIGH1).intoArray(bp, dst + 4 * stride);
        v4.rearrange(UP1).blend(v5, HIGH1).intoArray(bp, dst + 5 * stride);
        v6.blend(v7.rearrange(DOWN1), HIGH1).intoArray(bp, dst + 6 * stride);
        FloatVector w7 = v6.rearrange(UP1).blend(v7, HIGH1);
        if (maskLast) w7.intoArray(bp, dst + 7 * stride, FIRST6);
        else w7.intoArray(bp, dst + 7 * stride);
    }

    /**
     * The 12 x (2 vectors) micro-kernel: acc[r, c] = sum over p < kc of ap[a + p*12 + r] *
     * bp[b + p*NR + c], r < 12, c < NR, summed in p order from zero in one register lane per
     * element. Then, by mode: TO_TILE spills acc to tile for
     * {@link #storeTile}; OVERWRITE writes C = acc and ACCUMULATE C = acc + C (rows of C at
     * c + r*ldc), the same single roundings storeTile makes for alpha == 1 and beta == 0 or 1,
     * so the result is bit-identical either way. Writing C here saves the tile round trip
     * (24 vector stores and loads per call, and storeTile's own loop, ~10% of a 1024³ GEMM
     * here). This method is far above C2's inlining size and compiled on its own; its vectors
     * never leave it, so none is boxed (checked on the disassembly: no allocation in it).
     */
    static void kernel12(int kc, float[] ap, int a, float[] bp, int b, float[] tile, int mode, float[] C, int c, int ldc) {
        FloatVector c000 = FloatVector.zero(S), c001 = FloatVector.zero(S);
        FloatVector c010 = FloatVector.zero(S), c011 = FloatVector.zero(S);
        FloatVector c020 = FloatVector.zero(S), c021 = FloatVector.zero(S);
        FloatVector c030 = FloatVector.zero(S), c031 = FloatVector.zero(S);
        FloatVector c040 = FloatVector.zero(S), c041 = FloatVector.zero(S);
        FloatVector c050 = FloatVector.zero(S), c051 = FloatVector.zero(S);
        FloatVector c060 = FloatVector.zero(S), c061 = FloatVector.zero(S);
        FloatVector c070 = FloatVector.zero(S), c071 = FloatVector.zero(S);
        FloatVector c080 = FloatVector.zero(S), c081 = FloatVector.zero(S);
        FloatVector c090 = FloatVector.zero(S), c091 = FloatVector.zero(S);
        FloatVector c100 = FloatVector.zero(S), c101 = FloatVector.zero(S);
        FloatVector c110 = FloatVector.zero(S), c111 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = a + p * 12, bi = b + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + V);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai + 0]);  c000 = x.fma(b0, c000); c001 = x.fma(b1, c001);
            x = FloatVector.broadcast(S, ap[ai + 1]);  c010 = x.fma(b0, c010); c011 = x.fma(b1, c011);
            x = FloatVector.broadcast(S, ap[ai + 2]);  c020 = x.fma(b0, c020); c021 = x.fma(b1, c021);
            x = FloatVector.broadcast(S, ap[ai + 3]);  c030 = x.fma(b0, c030); c031 = x.fma(b1, c031);
            x = FloatVector.broadcast(S, ap[ai + 4]);  c040 = x.fma(b0, c040); c041 = x.fma(b1, c041);
            x = FloatVector.broadcast(S, ap[ai + 5]);  c050 = x.fma(b0, c050); c051 = x.fma(b1, c051);
            x = FloatVector.broadcast(S, ap[ai + 6]);  c060 = x.fma(b0, c060); c061 = x.fma(b1, c061);
            x = FloatVector.broadcast(S, ap[ai + 7]);  c070 = x.fma(b0, c070); c071 = x.fma(b1, c071);
            x = FloatVector.broadcast(S, ap[ai + 8]);  c080 = x.fma(b0, c080); c081 = x.fma(b1, c081);
            x = FloatVector.broadcast(S, ap[ai + 9]);  c090 = x.fma(b0, c090); c091 = x.fma(b1, c091);
            x = FloatVector.broadcast(S, ap[ai + 10]); c100 = x.fma(b0, c100); c101 = x.fma(b1, c101);
            x = FloatVector.broadcast(S, ap[ai + 11]); c110 = x.fma(b0, c110); c111 = x.fma(b1, c111);
        }
        if (mode == TO_TILE) {
            // merged into C by storeTile (edge tiles, alpha != 1, other beta)
            c000.intoArray(tile, 0 * NR); c001.intoArray(tile, 0 * NR + V);
            c010.intoArray(tile, 1 * NR); c011.intoArray(tile, 1 * NR + V);
            c020.intoArray(tile, 2 * NR); c021.intoArray(tile, 2 * NR + V);
            c030.intoArray(tile, 3 * NR); c031.intoArray(tile, 3 * NR + V);
            c040.intoArray(tile, 4 * NR); c041.intoArray(tile, 4 * NR + V);
            c050.intoArray(tile, 5 * NR); c051.intoArray(tile, 5 * NR + V);
            c060.intoArray(tile, 6 * NR); c061.intoArray(tile, 6 * NR + V);
            c070.intoArray(tile, 7 * NR); c071.intoArray(tile, 7 * NR + V);
            c080.intoArray(tile, 8 * NR); c081.intoArray(tile, 8 * NR + V);
            c090.intoArray(tile, 9 * NR); c091.intoArray(tile, 9 * NR + V);
            c100.intoArray(tile, 10 * NR); c101.intoArray(tile, 10 * NR + V);
            c110.intoArray(tile, 11 * NR); c111.intoArray(tile, 11 * NR + V);
        } else {
            // Full tile straight into C: C = acc (mode OVERWRITE) or C += acc (ACCUMULATE),
            // the same roundings as storeTile with alpha == 1 and beta == 0 or 1.
            c000 = mode == ACCUMULATE ? c000.add(FloatVector.fromArray(S, C, c + 0 * ldc)) : c000; c000.intoArray(C, c + 0 * ldc);
            c001 = mode == ACCUMULATE ? c001.add(FloatVector.fromArray(S, C, c + 0 * ldc + V)) : c001; c001.intoArray(C, c + 0 * ldc + V);
            c010 = mode == ACCUMULATE ? c010.add(FloatVector.fromArray(S, C, c + 1 * ldc)) : c010; c010.intoArray(C, c + 1 * ldc);
            c011 = mode == ACCUMULATE ? c011.add(FloatVector.fromArray(S, C, c + 1 * ldc + V)) : c011; c011.intoArray(C, c + 1 * ldc + V);
            c020 = mode == ACCUMULATE ? c020.add(FloatVector.fromArray(S, C, c + 2 * ldc)) : c020; c020.intoArray(C, c + 2 * ldc);
            c021 = mode == ACCUMULATE ? c021.add(FloatVector.fromArray(S, C, c + 2 * ldc + V)) : c021; c021.intoArray(C, c + 2 * ldc + V);
            c030 = mode == ACCUMULATE ? c030.add(FloatVector.fromArray(S, C, c + 3 * ldc)) : c030; c030.intoArray(C, c + 3 * ldc);
            c031 = mode == ACCUMULATE ? c031.add(FloatVector.fromArray(S, C, c + 3 * ldc + V)) : c031; c031.intoArray(C, c + 3 * ldc + V);
            c040 = mode == ACCUMULATE ? c040.add(FloatVector.fromArray(S, C, c + 4 * ldc)) : c040; c040.intoArray(C, c + 4 * ldc);
            c041 = mode == ACCUMULATE ? c041.add(FloatVector.fromArray(S, C, c + 4 * ldc + V)) : c041; c041.intoArray(C, c + 4 * ldc + V);
            c050 = mode == ACCUMULATE ? c050.add(FloatVector.fromArray(S, C, c + 5 * ldc)) : c050; c050.intoArray(C, c + 5 * ldc);
            c051 = mode == ACCUMULATE ? c051.add(FloatVector.fromArray(S, C, c + 5 * ldc + V)) : c051; c051.intoArray(C, c + 5 * ldc + V);
            c060 = mode == ACCUMULATE ? c060.add(FloatVector.fromArray(S, C, c + 6 * ldc)) : c060; c060.intoArray(C, c + 6 * ldc);
            c061 = mode == ACCUMULATE ? c061.add(FloatVector.fromArray(S, C, c + 6 * ldc + V)) : c061; c061.intoArray(C, c + 6 * ldc + V);
            c070 = mode == ACCUMULATE ? c070.add(FloatVector.fromArray(S, C, c + 7 * ldc)) : c070; c070.intoArray(C, c + 7 * ldc);
            c071 = mode == ACCUMULATE ? c071.add(FloatVector.fromArray(S, C, c + 7 * ldc + V)) : c071; c071.intoArray(C, c + 7 * ldc + V);
            c080 = mode == ACCUMULATE ? c080.add(FloatVector.fromArray(S, C, c + 8 * ldc)) : c080; c080.intoArray(C, c + 8 * ldc);
            c081 = mode == ACCUMULATE ? c081.add(FloatVector.fromArray(S, C, c + 8 * ldc + V)) : c081; c081.intoArray(C, c + 8 * ldc + V);
            c090 = mode == ACCUMULATE ? c090.add(FloatVector.fromArray(S, C, c + 9 * ldc)) : c090; c090.intoArray(C, c + 9 * ldc);
            c091 = mode == ACCUMULATE ? c091.add(FloatVector.fromArray(S, C, c + 9 * ldc + V)) : c091; c091.intoArray(C, c + 9 * ldc + V);
            c100 = mode == ACCUMULATE ? c100.add(FloatVector.fromArray(S, C, c + 10 * ldc)) : c100; c100.intoArray(C, c + 10 * ldc);
            c101 = mode == ACCUMULATE ? c101.add(FloatVector.fromArray(S, C, c + 10 * ldc + V)) : c101; c101.intoArray(C, c + 10 * ldc + V);
            c110 = mode == ACCUMULATE ? c110.add(FloatVector.fromArray(S, C, c + 11 * ldc)) : c110; c110.intoArray(C, c + 11 * ldc);
            c111 = mode == ACCUMULATE ? c111.add(FloatVector.fromArray(S, C, c + 11 * ldc + V)) : c111; c111.intoArray(C, c + 11 * ldc + V);
        }
    }

    /**
     * The 6 x (2 vectors) micro-kernel, 6 x 16 with AVX2: acc[r, c] = sum over p < kc of
     * ap[a + p*6 + r] * bp[b + p*NR + c], summed in p order from zero in one register lane per
     * element (as {@link #kernel12}), then left by mode exactly as kernel12 leaves its tile.
     *
     * <p>Why the stores into {@code tile[0]} inside the loop: C2's scheduler issues every load of
     * an iteration first (longest latency first), so written plainly this tile needs 12
     * accumulators + 2 B vectors + 6 broadcasts of A = 20 of AVX2's 16 registers, and C2 keeps
     * one accumulator on the stack: a store-to-load round trip every iteration, half the speed
     * (checked on the disassembly). A store to a float[] may alias ap, so the broadcasts after it
     * cannot move above it: the rows go in pairs, 12 + 2 + 2 = 16 registers, no spill. C2 merges
     * the stores into one per iteration. {@code tile} is the thread's own buffer (a shared dummy
     * would bounce a cache line between cores), and TO_TILE overwrites it afterwards. It beats
     * both the 4 x 16 tile that fits 16 registers without the trick and 6 x 16 with the spill
     * (docs/benchmarks.md).
     */
    static void kernel6(int kc, float[] ap, int a, float[] bp, int b, float[] tile, int mode, float[] C, int c, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        // Running indices instead of a + p*6 and b + p*NR: fewer integer ops per iteration.
        for (int ai = a, bi = b, end = a + 6 * kc; ai < end; ai += 6, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + V);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]);     c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            tile[0] = 0f;
            x = FloatVector.broadcast(S, ap[ai + 2]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            tile[0] = 0f;
            x = FloatVector.broadcast(S, ap[ai + 4]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        if (mode == TO_TILE) {
            c00.intoArray(tile, 0);      c01.intoArray(tile, V);
            c10.intoArray(tile, NR);     c11.intoArray(tile, NR + V);
            c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + V);
            c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + V);
            c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + V);
            c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + V);
        } else {
            boolean acc = mode == ACCUMULATE;
            int c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
            (acc ? c00.add(FloatVector.fromArray(S, C, c)) : c00).intoArray(C, c);
            (acc ? c01.add(FloatVector.fromArray(S, C, c + V)) : c01).intoArray(C, c + V);
            (acc ? c10.add(FloatVector.fromArray(S, C, c1)) : c10).intoArray(C, c1);
            (acc ? c11.add(FloatVector.fromArray(S, C, c1 + V)) : c11).intoArray(C, c1 + V);
            (acc ? c20.add(FloatVector.fromArray(S, C, c2)) : c20).intoArray(C, c2);
            (acc ? c21.add(FloatVector.fromArray(S, C, c2 + V)) : c21).intoArray(C, c2 + V);
            (acc ? c30.add(FloatVector.fromArray(S, C, c3)) : c30).intoArray(C, c3);
            (acc ? c31.add(FloatVector.fromArray(S, C, c3 + V)) : c31).intoArray(C, c3 + V);
            (acc ? c40.add(FloatVector.fromArray(S, C, c4)) : c40).intoArray(C, c4);
            (acc ? c41.add(FloatVector.fromArray(S, C, c4 + V)) : c41).intoArray(C, c4 + V);
            (acc ? c50.add(FloatVector.fromArray(S, C, c5)) : c50).intoArray(C, c5);
            (acc ? c51.add(FloatVector.fromArray(S, C, c5 + V)) : c51).intoArray(C, c5 + V);
        }
    }

    /**
     * C[r, c] = alpha * tile[r, c] + beta * C[r, c] for r < rows, c < cols; beta == 0 writes
     * without reading C, so NaNs already in C do not propagate.
     */
    static void storeTile(float[] tile, int rows, int cols, float alpha, float beta, float[] C, int c, int ldc) {
        for (int r = 0; r < rows; r++) {
            int t = r * NR, ci = c + r * ldc;
            int j = 0;
            if (cols == NR) {
                for (; j < NR; j += V) {
                    FloatVector v = FloatVector.fromArray(S, tile, t + j);
                    if (alpha != 1f) v = v.mul(alpha);
                    if (beta == 1f) v = v.add(FloatVector.fromArray(S, C, ci + j));
                    else if (beta != 0f) v = FloatVector.fromArray(S, C, ci + j).fma(FloatVector.broadcast(S, beta), v);
                    v.intoArray(C, ci + j);
                }
            }
            for (; j < cols; j++) {
                float v = alpha * tile[t + j];
                C[ci + j] = beta == 0f ? v : Math.fma(beta, C[ci + j], v);
            }
        }
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    static int roundUp(int a, int b) { return ceilDiv(a, b) * b; }
}

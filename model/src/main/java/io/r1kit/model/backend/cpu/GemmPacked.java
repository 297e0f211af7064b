package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
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
 *     tasks = (MC-row block) x (512-column range) of C        (threads take tasks in turn)
 *       for pc in K step KC           the task's C block (MC x 512) stays in L2
 *         for each B strip (KC x NR, stays in L1)
 *           for each A panel of the block (MR x KC; the block, MC x KC, stays in L2)
 *             micro-kernel: MR x NR tile in registers, KC rank-1 updates; then merge into C
 * </pre>
 * For the shapes of a transformer layer both panels cover the whole matrix, so each element of
 * A and B is packed exactly once per call. Both are packed so the kernel reads each operand as
 * one sequential stream: B because its rows sit a full row apart (4 KiB for N = 1024) and a
 * strip read in place would map onto a couple of L1 sets and evict itself; A because reading
 * MR separate row streams ran the kernel at half speed. Transposes are handled by the packing,
 * so the one kernel serves all four layouts. Packing zero-pads edge panels, so the kernel
 * always runs a full tile and the merge writes only the valid part of C.
 */
final class GemmPacked {
    private GemmPacked() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();

    /**
     * Micro-tile: MR rows x NR = 2 vectors. With 16-lane AVX-512 vectors that is 6 x 32:
     * 12 accumulator registers + 2 for B + 1 broadcast of A = 15 of the 32 zmm registers, and
     * 12 FMAs per 2 vector loads + 6 broadcast loads, enough to keep both FMA ports busy
     * (measured alone: ~165 GFLOPS on one core here, about 85% of peak).
     */
    static final int MR = 6;
    static final int NR = 2 * V;

    /** Depth of a K block: one packed B strip (KC x NR floats = 32 KiB at NR = 32) fits L1d (48 KiB). */
    static final int KC = 256;

    /** Rows of C per task: its block of packed A (MC x KC floats = 120 KiB) stays in L2 (2 MiB). Multiple of MR. */
    static final int MC = 120;

    /**
     * B strips per task: 16 x 32 = 512 columns. The task's C block (120 x 512 floats = 240 KiB)
     * stays in L2 across K blocks; a few tasks per thread keep both threads busy to the end.
     */
    static final int STRIPS_PER_TASK = 16;

    /** Most floats of packed B per column panel, and of packed A per row panel (16 MiB each): bounds the thread-local buffers; panels live in L3. */
    static final int B_PANEL_FLOATS = 4 << 20;
    static final int A_PANEL_FLOATS = 4 << 20;

    /** Below this many flops a call runs on the calling thread: forking would cost more than it saves. */
    static final long PARALLEL_MIN_FLOPS = 1L << 21;

    /** Per-thread buffers, grown on demand and reused, so training steps do not allocate. */
    private static final class Buffers {
        float[] a = new float[0];                // packed A panel \ of the calling thread only;
        float[] b = new float[0];                // packed B panel / workers just read them
        final float[] tile = new float[MR * NR]; // one C tile, between kernel and merge

        float[] a(int n) { if (a.length < n) a = new float[n]; return a; }
        float[] b(int n) { if (b.length < n) b = new float[n]; return b; }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    static void gemm(boolean transA, boolean transB, int M, int N, int K, float alpha,
                     float[] A, int aOff, float[] B, int bOff, float beta, float[] C, int cOff) {
        boolean parallel = 2L * M * N * K >= PARALLEL_MIN_FLOPS && Parallel.threads() > 1;
        int kBlocks = ceilDiv(K, KC);
        // Widest panels whose packing fits the budget: nc a multiple of NR, mc of MC.
        int ncMax = Math.max(NR, Math.min(roundUp(N, NR), B_PANEL_FLOATS / K / NR * NR));
        int mcMax = Math.max(MC, Math.min(roundUp(M, MC), A_PANEL_FLOATS / K / MC * MC));
        Buffers own = BUFFERS.get();
        float[] bp = own.b(K * ncMax), ap = own.a(K * roundUp(Math.min(M, mcMax), MR));
        for (int jc = 0; jc < N; jc += ncMax) {
            int nc = Math.min(ncMax, N - jc), strips = ceilDiv(nc, NR), ncPad = strips * NR;
            int jc0 = jc;
            // B panel: K block pb starts at bp[pb * KC * ncPad], strip s of it kc * NR later.
            int bItems = kBlocks * strips;
            run(parallel, bItems, 8, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int pc = i / strips * KC, s = i % strips, kc = Math.min(KC, K - pc);
                    packBStrip(transB, B, bOff, N, K, pc, kc, jc0, nc, s, bp, pc * ncPad + s * kc * NR);
                }
            });
            for (int ic = 0; ic < M; ic += mcMax) {
                int mc = Math.min(mcMax, M - ic), panels = ceilDiv(mc, MR), mcPad = panels * MR;
                int ic0 = ic;
                // A panel: K block pb starts at ap[pb * KC * mcPad], MR-row panel q of it q * MR * kc later.
                int aItems = kBlocks * panels;
                run(parallel, aItems, 16, (i0, i1) -> {
                    for (int i = i0; i < i1; i++) {
                        int pc = i / panels * KC, q = i % panels, kc = Math.min(KC, K - pc);
                        int rows = Math.min(MR, mc - q * MR);
                        packAPanel(transA, A, aOff, M, K, ic0 + q * MR, rows, pc, kc, ap, pc * mcPad + q * MR * kc);
                    }
                });
                int mBlocks = ceilDiv(mc, MC), nChunks = ceilDiv(strips, STRIPS_PER_TASK);
                int tasks = mBlocks * nChunks;
                AtomicInteger next = new AtomicInteger();
                Parallel.RangeBody worker = (w0, w1) -> {
                    float[] tile = BUFFERS.get().tile;
                    for (int t; (t = next.getAndIncrement()) < tasks; ) {
                        int mb = t / nChunks, nb = t % nChunks;
                        int r0 = mb * MC, rows = Math.min(MC, mc - r0);
                        int s0 = nb * STRIPS_PER_TASK, s1 = Math.min(strips, s0 + STRIPS_PER_TASK);
                        computeBlock(K, alpha, beta, C, cOff + (ic0 + r0) * N, N, ap, mcPad, r0, rows,
                                bp, ncPad, jc0, nc, s0, s1, tile);
                    }
                };
                int workers = parallel ? Math.min(Parallel.threads(), tasks) : 1;
                if (workers > 1) Parallel.forRange(workers, 1, worker);
                else worker.run(0, 1);
            }
        }
    }

    /** Runs body over [0, n) on the pool (chunks of at least grain) or on this thread. */
    private static void run(boolean parallel, int n, int grain, Parallel.RangeBody body) {
        if (parallel) Parallel.forRange(n, grain, body);
        else body.run(0, n);
    }

    /**
     * Rows [r0, r0+rows) of the A panel times strips [s0, s1) of the B panel, over all of K, a
     * KC block at a time; c is where row r0, column 0 of the panel pair sits in C.
     */
    private static void computeBlock(int K, float alpha, float beta, float[] C, int c, int ldc,
                                     float[] ap, int mcPad, int r0, int rows,
                                     float[] bp, int ncPad, int jc, int nc, int s0, int s1, float[] tile) {
        for (int pc = 0; pc < K; pc += KC) {
            int kc = Math.min(KC, K - pc);
            float betaK = pc == 0 ? beta : 1f;          // later K blocks accumulate onto C
            int aBlock = pc * mcPad + r0 * kc, bBlock = pc * ncPad;
            for (int s = s0; s < s1; s++) {
                int j = jc + s * NR, cols = Math.min(NR, jc + nc - j);
                int b = bBlock + s * kc * NR;
                for (int q = 0; q < rows; q += MR) {
                    kernel(kc, ap, aBlock + q * kc, bp, b, tile);
                    storeTile(tile, Math.min(MR, rows - q), cols, alpha, betaK, C, c + q * ldc + j, ldc);
                }
            }
        }
    }

    /**
     * Packs one MR-row panel of op(A), rows [i0, i0+rows) x columns [pc, pc+kc), K-major:
     * ap[dst + p*MR + r] = op(A)[i0+r, pc+p]; rows past `rows` are zero. op(A)[i, p] is
     * A[i*K + p], or A[p*M + i] when transA. Plain scalar loops: Vector API gathers are not
     * intrinsified on this JDK (they ran ~100x slower than these loops).
     */
    static void packAPanel(boolean transA, float[] A, int aOff, int M, int K, int i0, int rows, int pc, int kc,
                           float[] ap, int dst) {
        if (!transA) {
            // MR row streams; 16 values of p at a time so the written lines stay in L1.
            for (int pb = 0; pb < kc; pb += 16) {
                int pe = Math.min(kc, pb + 16);
                for (int r = 0; r < rows; r++) {
                    int src = aOff + (i0 + r) * K + pc;
                    for (int p = pb; p < pe; p++) ap[dst + p * MR + r] = A[src + p];
                }
                for (int r = rows; r < MR; r++) {
                    for (int p = pb; p < pe; p++) ap[dst + p * MR + r] = 0f;
                }
            }
        } else {
            // op(A) column p is contiguous in A: MR consecutive floats per p.
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * M + i0, d = dst + p * MR;
                for (int r = 0; r < rows; r++) ap[d + r] = A[src + r];
                for (int r = rows; r < MR; r++) ap[d + r] = 0f;
            }
        }
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
            // B is [N, K]: a transpose. Done 16 values of p at a time across all the strip's
            // columns, so the destination block (16 x NR floats, 2 KiB) stays in L1 while the
            // NR source rows are read; a whole column at a time ran ~10x slower here.
            for (int pb = 0; pb < kc; pb += 16) {
                int pe = Math.min(kc, pb + 16);
                for (int c = 0; c < cols; c++) {
                    int src = bOff + (j0 + c) * K + pc;
                    for (int p = pb; p < pe; p++) bp[dst + p * NR + c] = B[src + p];
                }
                for (int c = cols; c < NR; c++) {
                    for (int p = pb; p < pe; p++) bp[dst + p * NR + c] = 0f;
                }
            }
        }
    }

    /**
     * The 6 x (2 vectors) micro-kernel: tile[r, c] = sum over p < kc of ap[a + p*MR + r] *
     * bp[b + p*NR + c]. Accumulators are plain locals so C2 keeps them in registers.
     */
    static void kernel(int kc, float[] ap, int a, float[] bp, int b, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = a + p * MR, bi = b + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + V);
            FloatVector x = FloatVector.broadcast(S, ap[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        // Spill the tile, then merge it into C in a separate method: doing the C update here
        // pushed this method past C2's inlining node budget, and a vector passed to a method
        // that is not inlined is boxed on the heap (300 MB/s of garbage, half the speed).
        c00.intoArray(tile, 0);          c01.intoArray(tile, V);
        c10.intoArray(tile, NR);         c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR);     c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR);     c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR);     c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR);     c51.intoArray(tile, 5 * NR + V);
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

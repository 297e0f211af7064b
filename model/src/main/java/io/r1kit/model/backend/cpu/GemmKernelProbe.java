package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ceiling of r1kit's packed GEMM: the micro-kernel calls that an M x N x K {@link GemmPacked}
 * GEMM makes, in the same K blocks, task grid and dynamic split over the same threads, but with
 * no packing and every operand already in cache. Each thread reads one A block of its own (MC x
 * KC, in L2), two B strips of its own (L1/L2) and writes its own C tiles (L1), so no time goes to
 * packing, to streaming panels from L3 or to C misses: what is left is the micro-kernel and the
 * cost of calling it. No GEMM built on that kernel can run faster than this; the bench times it
 * beside libtorch's complete GEMM ("micro-kernel ceiling").
 *
 * <p>The results are meaningless (every tile of a task overwrites the same few tiles); only the
 * time is. For benchmarks only.
 */
public final class GemmKernelProbe {
    private GemmKernelProbe() {}

    /** A thread's cache-resident operands. */
    private static final class Operands {
        final float[] a = new float[GemmPacked.MC * GemmPacked.KC];
        final float[] b = new float[2 * GemmPacked.KC * GemmPacked.NR];
        final float[] c = new float[GemmPacked.MC * 2 * GemmPacked.NR];
        final float[] tile = new float[12 * GemmPacked.NR];

        Operands() {
            Random r = new Random(1);
            for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() - 0.5f;
            for (int i = 0; i < b.length; i++) b[i] = r.nextFloat() - 0.5f;
        }
    }

    private static final ThreadLocal<Operands> OPERANDS = ThreadLocal.withInitial(Operands::new);

    /** Micro-kernel calls of an M x N x K GEMM (one per MR x NR tile of C and K block). */
    public static long tileCalls(int M, int N, int K) {
        return (long) GemmPacked.ceilDiv(M, GemmPacked.MR) * GemmPacked.ceilDiv(N, GemmPacked.NR)
                * GemmPacked.ceilDiv(K, GemmPacked.KC);
    }

    /**
     * Makes the micro-kernel calls of an M x N x K GEMM on `threads` threads (each K block as deep
     * as GemmPacked's); returns the number of calls made, {@link #tileCalls}.
     */
    public static long run(int M, int N, int K, int threads) {
        int mr = GemmPacked.MR, nr = GemmPacked.NR, kc = GemmPacked.KC;
        if (M < 1 || N < 1 || K < 1 || threads < 1) {
            throw new IllegalArgumentException("GemmKernelProbe: M, N, K and threads must be positive, got "
                    + M + ", " + N + ", " + K + ", " + threads);
        }
        int panels = GemmPacked.ceilDiv(M, mr), strips = GemmPacked.ceilDiv(N, nr), kBlocks = GemmPacked.ceilDiv(K, kc);
        GemmPacked.TaskGrid grid = GemmPacked.TaskGrid.of(mr, panels, strips, threads);
        int tasks = grid.tasks(), blockPanels = GemmPacked.MC / mr, ldc = 2 * nr;
        AtomicInteger next = new AtomicInteger();
        AtomicLong calls = new AtomicLong();
        Parallel.RangeBody worker = (w0, w1) -> {
            Operands o = OPERANDS.get();
            long mine = 0;
            for (int t; (t = next.getAndIncrement()) < tasks; ) {
                int q0 = grid.firstPanel(t), q1 = grid.endPanel(t), s0 = grid.firstStrip(t), s1 = grid.endStrip(t);
                for (int pb = 0; pb < kBlocks; pb++) {
                    int mode = pb == 0 ? GemmPacked.OVERWRITE : GemmPacked.ACCUMULATE, depth = Math.min(kc, K - pb * kc);
                    for (int s = s0; s < s1; s++) {
                        int b = (s & 1) * kc * nr;
                        for (int q = q0; q < q1; q++) {
                            int qi = (q - q0) % blockPanels, a = qi * mr * kc, c = qi * mr * ldc + (s & 1) * nr;
                            GemmPacked.kernel(mr, depth, o.a, a, o.b, b, o.tile, mode, o.c, c, ldc);
                            mine++;
                        }
                    }
                }
            }
            calls.addAndGet(mine);
        };
        int workers = Math.min(threads, tasks);
        if (workers > 1) Parallel.forWorkers(workers, worker);
        else worker.run(0, 1);
        return calls.get();
    }
}

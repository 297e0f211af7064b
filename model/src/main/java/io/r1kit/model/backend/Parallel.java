package io.r1kit.model.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The one shared thread pool every CPU kernel parallelises over. Sized to the machine's cores
 * (override with {@code -Dr1kit.threads=N}); kernels split work into a few coarse chunks rather
 * than one task per element, so the pool's overhead stays far below the arithmetic.
 *
 * <p>The calling thread works too: it posts a job whose chunks the caller and up to
 * {@code threads - 1} pool workers claim from a shared counter. A training step of a small model
 * makes thousands of short parallel calls; handing each to the pool and blocking (what
 * {@code ForkJoinPool.invoke} does) left the caller idle and paid a worker's wake-up latency on
 * every call, so two cores ran at little more than one. Now a worker that wakes late simply finds
 * fewer chunks left. Which thread runs a chunk never changes its result: chunk boundaries depend
 * only on {@code n} and {@code grain} (not on the thread count), and chunks write disjoint outputs.
 */
public final class Parallel {
    /** Body of a parallel loop over the half-open range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final int THREADS =
            Integer.getInteger("r1kit.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS > 1 ? new ForkJoinPool(THREADS) : null;
    /**
     * The most chunks one loop is cut into, whatever the thread count: chunk boundaries depend only on
     * {@code n} and {@code grain}, so a kernel that keeps a partial result per chunk (a sum, a norm, a
     * weight gradient over rows) gives the same bits on 1, 2, 3 or 8 threads. Eight is four chunks per
     * thread on two cores; beyond eight threads the extra workers of such loops would idle.
     */
    static final int MAX_CHUNKS = 8;
    /** Spins (each a {@link Thread#onSpinWait}) before the caller parks while a worker finishes its last chunk. */
    private static final int SPINS = 20_000;

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over [0, n) split into chunks of at least {@code grain} iterations.
     * Runs inline when there is only one chunk or one thread, or when already inside the pool
     * (nested parallel loops would only add overhead).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = Math.min(MAX_CHUNKS, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || ForkJoinTask.getPool() == POOL && POOL != null) {
            body.run(0, n);
            return;
        }
        int size = Math.max(1, (n + chunks - 1) / chunks), count = (n + size - 1) / size;
        if (POOL == null) {   // one thread: the same chunks, in order
            for (int c = 0; c < count; c++) body.run(c * size, Math.min(n, (c + 1) * size));
            return;
        }
        runJob(body, n, size, count);
    }

    /**
     * Runs {@code body(w, w + 1)} for each of {@code workers} workers, on up to that many threads, for
     * kernels that hand out their own work items (the packed GEMM's task grid). Unlike
     * {@link #forRange} the count is not capped: such a kernel's result must not depend on how many
     * workers run, which its own tests check.
     */
    public static void forWorkers(int workers, RangeBody body) {
        if (workers <= 0) return;
        if (POOL == null || workers == 1 || ForkJoinTask.getPool() == POOL) {
            body.run(0, workers);
            return;
        }
        runJob(body, workers, 1, workers);
    }

    private static void runJob(RangeBody body, int n, int size, int count) {
        Job job = new Job(body, n, size, count, Thread.currentThread());
        int helpers = Math.min(THREADS - 1, job.count - 1);
        for (int i = 0; i < helpers; i++) POOL.execute(job::work);
        job.work();
        job.awaitDone();
    }

    /** One parallel call: chunks claimed from {@code next}, finished ones counted in {@code done}. */
    private static final class Job {
        final RangeBody body;
        final int n, size, count;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(RangeBody body, int n, int size, int count, Thread caller) {
            this.body = body;
            this.n = n;
            this.size = size;
            this.count = count;
            this.caller = caller;
        }

        void work() {
            int c;
            while ((c = next.getAndIncrement()) < count) {
                try {
                    // after a failure the remaining chunks are skipped, but still counted as done
                    if (failure.get() == null) body.run(c * size, Math.min(n, (c + 1) * size));
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                if (done.incrementAndGet() == count && Thread.currentThread() != caller) LockSupport.unpark(caller);
            }
        }

        void awaitDone() {
            for (int i = 0; done.get() < count && i < SPINS; i++) Thread.onSpinWait();
            while (done.get() < count) LockSupport.parkNanos(this, 100_000);
            Throwable t = failure.get();
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }
}

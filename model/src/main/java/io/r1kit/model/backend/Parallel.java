package io.r1kit.model.backend;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/**
 * The one shared thread pool every CPU kernel parallelises over. Sized to the machine's cores
 * (override with {@code -Dr1kit.threads=N}); kernels split work into a few coarse chunks rather
 * than one task per element, so the pool's overhead stays far below the arithmetic.
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
        int chunks = Math.min(THREADS * 4, Math.max(1, n / Math.max(1, grain)));
        if (POOL == null || chunks <= 1 || java.util.concurrent.ForkJoinTask.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        POOL.invoke(new Chunk(body, 0, n, Math.max(1, (n + chunks - 1) / chunks)));
    }

    private static final class Chunk extends RecursiveAction {
        private final RangeBody body;
        private final int from, to, size;

        Chunk(RangeBody body, int from, int to, int size) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.size = size;
        }

        @Override
        protected void compute() {
            if (to - from <= size) {
                body.run(from, to);
                return;
            }
            int mid = from + ((to - from) / size / 2) * size;
            if (mid <= from) mid = from + size;
            invokeAll(new Chunk(body, from, mid, size), new Chunk(body, mid, to, size));
        }
    }
}

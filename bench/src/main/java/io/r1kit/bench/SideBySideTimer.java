package io.r1kit.bench;

import java.util.Arrays;

/**
 * Times r1kit and libtorch on the same work in the same run, interleaved: each repeat runs one
 * side then the other (alternating which goes first), so background load from other processes
 * and frequency changes hit both sides alike. Both are warmed up first (the JIT compiles the
 * r1kit kernels; libtorch allocates its caches), then we quote medians.
 *
 * <p>Every timed call comes right after an untimed call of the same side ("settle"), so each side
 * is timed in its own steady state, as in real use, where one library runs many ops in a row.
 * Without it each side pays for the other's leftovers: libtorch's OpenMP (libgomp) workers keep
 * spinning for a while after an op returns and take a core from an r1kit GEMM started right
 * after it. Measured on the 2-core machine (1024³, 2 threads, medians of 40): r1kit 82.5 GFLOPS
 * right after a libtorch call vs 94.2 right after its own; libtorch 112.9 after r1kit vs 123.4
 * after its own.
 */
final class SideBySideTimer {
    /** Median and minimum milliseconds per call, for each side. */
    record Result(double r1kitMs, double libtorchMs, double r1kitMinMs, double libtorchMinMs) {
        double ratio() { return libtorchMs / r1kitMs; }     // > 1: r1kit is faster
    }

    /** Something timed; it throws UnsupportedOperationException if a kernel is not there yet. */
    interface Work {
        void run() throws Exception;
    }

    private final double warmupSeconds;
    private final int repeats;
    private final int warmCalls;
    private final boolean settle;

    SideBySideTimer(double warmupSeconds, int repeats) {
        this(warmupSeconds, repeats, 3, true);
    }

    /**
     * A timer with at least {@code warmCalls} warm-up calls per side and, when {@code settle} is
     * false, no untimed call before each timed one: for work that lasts seconds per call (a whole
     * training step or rollout), where the other side's leftover threads are a negligible part.
     */
    SideBySideTimer(double warmupSeconds, int repeats, int warmCalls, boolean settle) {
        if (repeats < 1) throw new IllegalArgumentException("SideBySideTimer: repeats must be >= 1, got " + repeats);
        this.warmupSeconds = warmupSeconds;
        this.repeats = repeats;
        this.warmCalls = warmCalls;
        this.settle = settle;
    }

    Result time(Work r1kit, Work libtorch) throws Exception {
        warm(r1kit);
        warm(libtorch);
        double[] a = new double[repeats], b = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            if (i % 2 == 0) {
                a[i] = timed(r1kit);
                b[i] = timed(libtorch);
            } else {
                b[i] = timed(libtorch);
                a[i] = timed(r1kit);
            }
        }
        return new Result(median(a), median(b), min(a), min(b));
    }

    /** At least warmCalls calls and warmupSeconds of running. */
    private void warm(Work w) throws Exception {
        long end = System.nanoTime() + (long) (warmupSeconds * 1e9);
        int calls = 0;
        while (calls < warmCalls || System.nanoTime() < end) {
            w.run();
            calls++;
        }
    }

    private double timed(Work w) throws Exception {
        return settle ? settledOnce(w) : once(w);
    }

    /** One untimed call, then the timed one: see the class comment. */
    private static double settledOnce(Work w) throws Exception {
        w.run();
        return once(w);
    }

    private static double once(Work w) throws Exception {
        long t0 = System.nanoTime();
        w.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    static double min(double[] x) {
        return Arrays.stream(x).min().orElse(Double.NaN);
    }
}

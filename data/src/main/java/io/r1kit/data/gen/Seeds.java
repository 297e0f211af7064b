package io.r1kit.data.gen;

import java.util.SplittableRandom;

/**
 * Per-example random streams: example {@code i} of a run with seed {@code s} draws from its own
 * generator, a pure function of (s, i). So a file is the same whatever order or chunking wrote it,
 * and one example can be regenerated alone.
 */
public final class Seeds {
    private Seeds() {}

    public static SplittableRandom forExample(long seed, long index) {
        return new SplittableRandom(mix(seed, index));
    }

    /**
     * As {@link #forExample(long, long)}, with a per-task salt so two tasks run with the same seed draw
     * different problems (an evaluation set of one task never equals the corpus of another by accident).
     */
    public static SplittableRandom forExample(String task, long seed, long index) {
        return new SplittableRandom(mix(seed ^ fmix(task.hashCode() * 0x9E3779B97F4A7C15L), index));
    }

    /** Two rounds of the murmur3/SplitMix finalizer over seed and index. */
    static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + fmix(index + 0x632BE59BD9B4E019L);
        return fmix(z);
    }

    static long fmix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }

    /** True with probability p. */
    public static boolean chance(SplittableRandom r, double p) {
        return p > 0 && r.nextDouble() < p;
    }

    public static <T> T pick(SplittableRandom r, T[] xs) {
        return xs[r.nextInt(xs.length)];
    }

    public static <T> T pick(SplittableRandom r, java.util.List<T> xs) {
        return xs.get(r.nextInt(xs.size()));
    }
}

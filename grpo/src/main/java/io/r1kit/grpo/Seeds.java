package io.r1kit.grpo;

/**
 * Seeds derived from (run seed, step, index) with SplitMix64's finaliser, so every random draw of
 * a step is a pure function of the run seed and the step number: a resumed run needs no saved
 * generator state to draw exactly what the uninterrupted run drew.
 */
public final class Seeds {
    private Seeds() {}

    /** The seed of step {@code step}. */
    public static long step(long seed, long step) {
        return mix(seed + 0x9E3779B97F4A7C15L * (step + 1));
    }

    /** The seed of draw {@code index} within a step. */
    public static long sub(long stepSeed, long index) {
        return mix(stepSeed ^ (0xBF58476D1CE4E5B9L * (index + 1)));
    }

    /** SplitMix64 finaliser (Steele, Lea, Flood 2014). */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

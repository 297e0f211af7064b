package io.r1kit.model.fuzz;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fuzz target's loop: every committed corpus input and every seed as given, then
 * {@link Fuzz#tries} mutations of them, each checked by {@link Fuzz#check}.
 */
public final class FuzzTarget {
    private final String name;
    private final List<byte[]> seeds = new ArrayList<>();
    private long allocationLimit = -1;

    public FuzzTarget(String name, List<byte[]> seeds) throws IOException {
        this.name = name;
        this.seeds.addAll(Fuzz.corpus(name));
        this.seeds.addAll(seeds);
        if (this.seeds.isEmpty()) throw new IllegalArgumentException(name + ": a fuzz target needs at least one seed");
    }

    /**
     * Replaces {@link Fuzz#allocationLimit}'s size-based bound, for targets whose legitimate work is set
     * by the input's content rather than its size (validating a run config generates its data sets).
     */
    public FuzzTarget allocationLimit(long bytes) {
        this.allocationLimit = bytes;
        return this;
    }

    /** Runs the loop with 300 mutations in the suite; returns how many inputs were accepted (the rest were refused cleanly). */
    public int run(List<Class<? extends Throwable>> documented, String mustName, Fuzz.Parse parse) {
        return run(300, documented, mustName, parse);
    }

    /** As {@link #run(List, String, Fuzz.Parse)} with {@code suiteTries} mutations in the suite. */
    public int run(int suiteTries, List<Class<? extends Throwable>> documented, String mustName, Fuzz.Parse parse) {
        Random rnd = new Random(Fuzz.seed() ^ name.hashCode());
        long t0 = System.nanoTime();
        int tried = 0, accepted = 0;
        for (byte[] s : seeds) {
            tried++;
            if (Fuzz.check(name, s, documented, mustName, limit(s), parse)) accepted++;
        }
        for (int i = 0, n = Fuzz.tries(suiteTries); i < n; i++) {
            byte[] input = Fuzz.mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
            tried++;
            if (Fuzz.check(name, input, documented, mustName, limit(input), parse)) accepted++;
        }
        Fuzz.report(name, tried, accepted, System.nanoTime() - t0);
        return accepted;
    }

    private long limit(byte[] input) {
        return allocationLimit >= 0 ? allocationLimit : Fuzz.allocationLimit(input.length);
    }
}

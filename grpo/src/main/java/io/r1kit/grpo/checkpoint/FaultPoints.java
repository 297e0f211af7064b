package io.r1kit.grpo.checkpoint;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named places where a crash hurts most (half a checkpoint written, half a metrics line), at which a
 * fault-injection test can stop the JVM as {@code kill -9} would. Off unless the system property
 * {@code r1kit.fault.halt} is {@code NAME#N}: the process halts (no shutdown hooks, no flushing) at
 * the N-th time it reaches point NAME. Production runs never set it; the check is one property read.
 */
public final class FaultPoints {
    private FaultPoints() {}

    /** Between the model and the optimizer/state files of a checkpoint (the partial directory exists). */
    public static final String CHECKPOINT_WRITE = "checkpoint.write";
    /** After the first half of a metrics line reached the file. */
    public static final String METRICS_LINE = "metrics.line";

    private static final ConcurrentHashMap<String, AtomicInteger> HITS = new ConcurrentHashMap<>();

    /** True when the next {@link #reach} of {@code name} will halt: callers use it to flush what precedes. */
    public static boolean armed(String name) {
        String spec = System.getProperty("r1kit.fault.halt");
        if (spec == null) return false;
        int hash = spec.indexOf('#');
        if (hash < 0 || !spec.substring(0, hash).equals(name)) return false;
        int n = Integer.parseInt(spec.substring(hash + 1));
        return HITS.computeIfAbsent(name, k -> new AtomicInteger()).get() + 1 == n;
    }

    /** Counts a visit of point {@code name}; halts the JVM with status 137 when it is the armed visit. */
    public static void reach(String name) {
        if (System.getProperty("r1kit.fault.halt") == null) return;
        boolean halt = armed(name);
        HITS.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
        if (halt) Runtime.getRuntime().halt(137);
    }
}

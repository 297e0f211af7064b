package io.r1kit.pipeline.plan;

import io.r1kit.pipeline.config.ConfigException;
import java.util.List;
import java.util.Locale;

/**
 * Compares stage plans with the memory of their device and renders them. On the CPU the capacity
 * is the JVM's max heap: the CPU backend keeps every tensor, gradient, moment and cache in Java
 * arrays on the heap, so nothing it plans lives off-heap (the safetensors reader maps files, which
 * the OS pages in and out and which are not counted).
 */
public final class MemoryCheck {
    private MemoryCheck() {}

    /** Bytes available to the CPU backend: the JVM's max heap. */
    public static long cpuCapacity() {
        return Runtime.getRuntime().maxMemory();
    }

    /** The first stage whose plan exceeds {@code capacity}, or null when all fit. */
    public static StagePlan firstThatDoesNotFit(List<StagePlan> plans, long capacity) {
        for (StagePlan p : plans) if (p.total() > capacity) return p;
        return null;
    }

    /** Throws a ConfigException naming the stage, its largest item and the option that shrinks it, when a stage does not fit. */
    public static void refuseIfTooBig(List<StagePlan> plans, long capacity, String device) {
        StagePlan p = firstThatDoesNotFit(plans, capacity);
        if (p == null) return;
        MemoryItem big = p.largest();
        throw new ConfigException(String.format(Locale.ROOT,
                "stage '%s' (%s) needs about %s on %s, more than the %s it has (%s). Largest item: %s, %s; to shrink it: %s. "
                        + "See 'r1kit plan' for every item; -Dr1kit.memoryCheck=false in R1KIT_JAVA_OPTS skips this check.",
                p.stage(), p.type(), gib(p.total()), device, gib(capacity),
                device.equals("cpu") ? "the JVM's max heap; raise it with -Xmx in R1KIT_JAVA_OPTS" : "device memory",
                big.what(), gib(big.bytes()), big.shrink()));
    }

    public static String render(List<StagePlan> plans, long capacity, String device) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "memory plan on %s: %s available%s%n", device,
                capacity > 0 ? gib(capacity) : "unknown", device.equals("cpu") ? " (the JVM's max heap)" : ""));
        for (StagePlan p : plans) {
            sb.append(String.format(Locale.ROOT, "%nstage %s (%s): %s%n", p.stage(), p.type(), p.model()));
            for (MemoryItem i : p.items()) sb.append(String.format(Locale.ROOT, "  %-70s %12s%n", i.what(), gib(i.bytes())));
            boolean fits = capacity <= 0 || p.total() <= capacity;
            sb.append(String.format(Locale.ROOT, "  %-70s %12s  %s%n", "total", gib(p.total()),
                    capacity <= 0 ? "(not checked)" : fits ? "fits" : "DOES NOT FIT: largest is " + p.largest().what()
                            + "; to shrink it: " + p.largest().shrink()));
            for (MemoryItem i : p.alternatives()) sb.append(String.format(Locale.ROOT, "  (%s: %s)%n", i.what(), gib(i.bytes())));
        }
        return sb.toString();
    }

    static String gib(long bytes) {
        if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
}

package io.r1kit.model.backend.cuda;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching device-memory allocator (the idea of PyTorch's CUDA caching allocator, much smaller):
 * freed blocks are kept in per-size free lists and handed out again instead of calling
 * cuMemAlloc/cuMemFree on every op, which synchronise the device and cost ~100 us each.
 *
 * <p>Sizes are rounded up (to 512 bytes below 1 MiB, to 2 MiB above) so that blocks of nearly equal
 * requests are interchangeable. A request takes the smallest cached block of at least its rounded
 * size but at most twice it (so a huge cached block is not wasted on a tiny request). When the
 * device is out of memory the cache is released and the allocation retried once.
 *
 * <p>Safety without events: the backend uses ONE stream per device, so a block freed after kernels
 * that use it were enqueued can be reused by kernels enqueued later on the same stream; the stream
 * order guarantees the earlier kernels finish first.
 *
 * <p>Not thread-safe on its own: the owning backend serialises calls.
 *
 * @param <P> the device pointer type (CUdeviceptr on the GPU; a fake in tests)
 */
public final class CachingAllocator<P> {

    /** The raw device allocator underneath (cuMemAlloc / cuMemFree). */
    public interface Device<P> {
        /** Allocates {@code bytes}; throws {@link OutOfMemory} when the device has no room. */
        P alloc(long bytes);

        void free(P ptr);
    }

    /** The device reported out-of-memory. */
    public static final class OutOfMemory extends RuntimeException {
        public OutOfMemory(String message) { super(message); }
    }

    /** A block handed out by {@link #allocate}: the pointer and the block's (rounded) size. */
    public record Block<P>(P ptr, long size) {}

    /**
     * Statistics in bytes. inUse: blocks handed out and not yet freed; cached: blocks kept for reuse;
     * peakInUse: the maximum of inUse; reserved = inUse + cached (what the device sees as allocated).
     */
    public record Stats(long inUse, long peakInUse, long cached, long reserved, long deviceAllocs, long cacheHits, long deviceFrees) {}

    static final long SMALL = 1L << 20;
    static final long SMALL_ROUND = 512;
    static final long LARGE_ROUND = 2L << 20;

    private final Device<P> device;
    private final TreeMap<Long, ArrayDeque<P>> free = new TreeMap<>();
    private final Map<P, Long> live = new IdentityHashMap<>();
    private long inUse, peakInUse, cached, deviceAllocs, cacheHits, deviceFrees;

    public CachingAllocator(Device<P> device) {
        this.device = device;
    }

    /** The size a request of {@code bytes} is rounded up to. */
    static long roundUp(long bytes) {
        if (bytes <= 0) return SMALL_ROUND;
        long r = bytes < SMALL ? SMALL_ROUND : LARGE_ROUND;
        return (bytes + r - 1) / r * r;
    }

    public synchronized Block<P> allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("CachingAllocator: negative size " + bytes);
        long size = roundUp(bytes);
        Map.Entry<Long, ArrayDeque<P>> e = free.ceilingEntry(size);
        if (e != null && e.getKey() <= 2 * size) {
            long blockSize = e.getKey();
            P p = e.getValue().pop();
            if (e.getValue().isEmpty()) free.remove(blockSize);
            cached -= blockSize;
            cacheHits++;
            return handOut(p, blockSize);
        }
        P p;
        try {
            p = device.alloc(size);
        } catch (OutOfMemory oom) {
            emptyCache();               // give cached blocks back and retry once
            try {
                p = device.alloc(size);
            } catch (OutOfMemory again) {
                throw new OutOfMemory("CUDA out of memory allocating " + size + " bytes (" + stats() + "): "
                        + again.getMessage());
            }
        }
        deviceAllocs++;
        return handOut(p, size);
    }

    private Block<P> handOut(P p, long size) {
        live.put(p, size);
        inUse += size;
        peakInUse = Math.max(peakInUse, inUse);
        return new Block<>(p, size);
    }

    /** Returns a block to the cache (not to the device). */
    public synchronized void release(Block<P> block) {   // synchronized: device tensors are freed from a Cleaner thread
        Long size = live.remove(block.ptr());
        if (size == null) throw new IllegalStateException("CachingAllocator: block freed twice or not from this allocator");
        inUse -= size;
        cached += size;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(block.ptr());
    }

    /** Frees every cached block on the device (blocks in use stay). */
    public synchronized void emptyCache() {
        for (var e : free.entrySet()) {
            for (P p : e.getValue()) {
                device.free(p);
                deviceFrees++;
            }
        }
        free.clear();
        cached = 0;
    }

    public synchronized void resetPeak() {
        peakInUse = inUse;
    }

    public synchronized Stats stats() {
        return new Stats(inUse, peakInUse, cached, inUse + cached, deviceAllocs, cacheHits, deviceFrees);
    }
}

package io.r1kit.model.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping, over a fake device with a fixed capacity. */
class CachingAllocatorTest {

    /** A fake device: pointers are fresh objects, capacity enforced, frees counted. */
    static final class FakeDevice implements CachingAllocator.Device<Object> {
        final long capacity;
        long used;
        final List<Long> allocs = new ArrayList<>();
        int frees;
        final java.util.IdentityHashMap<Object, Long> sizes = new java.util.IdentityHashMap<>();

        FakeDevice(long capacity) { this.capacity = capacity; }

        @Override public Object alloc(long bytes) {
            if (used + bytes > capacity) throw new CachingAllocator.OutOfMemory("fake OOM");
            used += bytes;
            allocs.add(bytes);
            Object p = new Object();
            sizes.put(p, bytes);
            return p;
        }

        @Override public void free(Object ptr) {
            used -= sizes.remove(ptr);
            frees++;
        }
    }

    @Test
    void roundsSmallTo512AndLargeTo2MiB() {
        assertEquals(512, CachingAllocator.roundUp(1));
        assertEquals(512, CachingAllocator.roundUp(512));
        assertEquals(1024, CachingAllocator.roundUp(513));
        assertEquals(2L << 20, CachingAllocator.roundUp((1L << 20) + 1));
        assertEquals(4L << 20, CachingAllocator.roundUp((2L << 20) + 1));
    }

    @Test
    void freedBlocksAreReusedAndStatsTrackInUseCachedAndPeak() {
        FakeDevice dev = new FakeDevice(1L << 30);
        CachingAllocator<Object> a = new CachingAllocator<>(dev);
        var b1 = a.allocate(1000);           // 1024
        var b2 = a.allocate(3000);           // 3072
        assertEquals(4096, a.stats().inUse());
        assertEquals(4096, a.stats().peakInUse());
        a.release(b1);
        assertEquals(3072, a.stats().inUse());
        assertEquals(1024, a.stats().cached());
        var b3 = a.allocate(900);            // same rounded size: the cached block comes back
        assertSame(b1.ptr(), b3.ptr());
        assertEquals(2, dev.allocs.size());
        assertEquals(1, a.stats().cacheHits());
        assertEquals(0, a.stats().cached());
        a.release(b2);
        var b4 = a.allocate(100);            // 512 <-> cached 3072 is more than 2x: new device block
        assertNotSame(b2.ptr(), b4.ptr());
        assertEquals(3, dev.allocs.size());
        assertEquals(4096, a.stats().peakInUse());
        assertEquals(a.stats().inUse() + a.stats().cached(), a.stats().reserved());
        a.emptyCache();
        assertEquals(0, a.stats().cached());
        assertEquals(1, dev.frees);
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        FakeDevice dev = new FakeDevice(8L << 20);
        CachingAllocator<Object> a = new CachingAllocator<>(dev);
        var big = a.allocate(6L << 20);
        a.release(big);                      // 6 MiB cached, 2 MiB free on the device
        var other = a.allocate(4L << 20);    // 4 MiB: cached 6 MiB block fits (<= 2x) -> reused
        assertSame(big.ptr(), other.ptr());
        a.release(other);
        var small = a.allocate(1L << 20);    // rounded to 1 MiB... 6 MiB cached is > 2x: device alloc (fits in 2 MiB)
        assertEquals(2, dev.allocs.size());
        var need = a.allocate(5L << 20);     // 6 MiB cached block is within 2x of 6 MiB rounded -> reuse
        assertSame(big.ptr(), need.ptr());
        a.release(need);
        a.release(small);
        var huge = a.allocate(7L << 20);     // cached blocks must be freed first to make room
        assertTrue(dev.frees >= 1);
        assertEquals(8L << 20, huge.size());
        assertThrows(CachingAllocator.OutOfMemory.class, () -> a.allocate(8L << 20));
    }

    @Test
    void doubleFreeIsAnError() {
        CachingAllocator<Object> a = new CachingAllocator<>(new FakeDevice(1 << 20));
        var b = a.allocate(10);
        a.release(b);
        assertThrows(IllegalStateException.class, () -> a.release(b));
    }
}

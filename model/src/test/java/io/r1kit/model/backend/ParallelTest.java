package io.r1kit.model.backend;

import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The shared pool: every index exactly once (caller and workers together), nesting, concurrent callers, workers that really run chunks (awake and after parking), failures reach the caller. */
class ParallelTest {

    @Test
    void everyIndexRunsExactlyOnceForAwkwardSizes() {
        for (int n : new int[] {1, 7, 33, 129, 1000, 4097}) {
            for (int grain : new int[] {1, 3, 64}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                for (int rep = 0; rep < 50; rep++) {
                    Parallel.forRange(n, grain, (a, b) -> {
                        for (int i = a; i < b; i++) hits.incrementAndGet(i);
                    });
                }
                for (int i = 0; i < n; i++) assertEquals(50, hits.get(i), "n=" + n + " grain=" + grain + " index " + i);
            }
        }
    }

    @Test
    void nestedLoopsComplete() {
        int n = 64;
        AtomicIntegerArray hits = new AtomicIntegerArray(n * n);
        Parallel.forRange(n, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                int row = i;
                Parallel.forRange(n, 1, (c, d) -> {
                    for (int j = c; j < d; j++) hits.incrementAndGet(row * n + j);
                });
            }
        });
        for (int i = 0; i < n * n; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void aFailingChunkFailsTheCallAndThePoolKeepsWorking() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(100, 1, (a, b) -> {
            if (a <= 50 && 50 < b) throw new IllegalArgumentException("chunk with 50");
        }));
        assertEquals("chunk with 50", e.getMessage());
        AtomicIntegerArray hits = new AtomicIntegerArray(100);
        Parallel.forRange(100, 1, (a, b) -> {
            for (int i = a; i < b; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < 100; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void concurrentCallersEachGetEveryIndexOnce() throws Exception {
        int callers = 4, n = 999;
        AtomicIntegerArray[] hits = new AtomicIntegerArray[callers];
        Thread[] ts = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            AtomicIntegerArray h = hits[c] = new AtomicIntegerArray(n);
            ts[c] = new Thread(() -> {
                for (int rep = 0; rep < 200; rep++) Parallel.forRange(n, 7, (a, b) -> { for (int i = a; i < b; i++) h.incrementAndGet(i); });
            });
            ts[c].start();
        }
        for (Thread t : ts) t.join(60_000);
        for (int c = 0; c < callers; c++) for (int i = 0; i < n; i++) assertEquals(200, hits[c].get(i), "caller " + c + " index " + i);
    }

    @Test
    void aWorkerRunsChunksBesideTheCallerWhetherAwakeOrParked() throws Exception {
        assumeTrue(Parallel.threads() >= 2, "needs 2 threads, have " + Parallel.threads());
        // Each chunk waits until two threads are inside the call: passes only if a worker joins.
        for (long idleMs : new long[] {0, 50}) {            // 50 ms: longer than the spin, the worker has parked
            Thread.sleep(idleMs);
            CountDownLatch both = new CountDownLatch(2);
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            Parallel.forRange(2, 1, (a, b) -> {
                if (seen.add(Thread.currentThread())) both.countDown();
                try {
                    assertTrue(both.await(20, TimeUnit.SECONDS), "no second thread joined the call");
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertEquals(2, seen.size(), "after " + idleMs + " ms idle");
        }
    }
}

package io.r1kit.model.backend;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The shared pool: every index exactly once (caller and workers together), nesting, failures reach the caller. */
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
}

package io.r1kit.model.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Schedule values at hand-computed points (step is 0-based: warm-up reaches lr at step warmup-1). */
class LrScheduleTest {
    @Test
    void constantAndWarmup() {
        assertEquals(3e-4f, LrSchedule.constant(3e-4f).lr(12345));
        LrSchedule w = LrSchedule.warmupConstant(1f, 4);
        assertEquals(0.25f, w.lr(0));
        assertEquals(1f, w.lr(3));
        assertEquals(1f, w.lr(100));
    }

    @Test
    void warmupThenLinearDecay() {
        LrSchedule s = LrSchedule.warmupLinear(1f, 10, 110, 0.1f);
        assertEquals(0.1f, s.lr(0), 1e-7);
        assertEquals(1f, s.lr(9), 1e-7);
        assertEquals(1f, s.lr(10), 1e-7);
        assertEquals(0.55f, s.lr(60), 1e-6);
        assertEquals(0.1f, s.lr(110), 1e-7);
        assertEquals(0.1f, s.lr(500), 1e-7);
    }

    @Test
    void warmupThenCosine() {
        LrSchedule s = LrSchedule.warmupCosine(2f, 10, 110, 0.1f);
        assertEquals(2f, s.lr(10), 1e-6);
        assertEquals(2f * (0.1f + 0.9f * 0.5f), s.lr(60), 1e-6);                                   // half way
        assertEquals(2f * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.25))), s.lr(35), 1e-6);   // quarter
        assertEquals(0.2f, s.lr(110), 1e-6);
        assertEquals(0.2f, s.lr(1000), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1f, 10, 5, 0f));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(1f, 1, 5, 2f));
    }
}

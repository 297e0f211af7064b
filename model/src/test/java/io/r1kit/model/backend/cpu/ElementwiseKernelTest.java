package io.r1kit.model.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** Fast elementwise kernels and reductions vs their scalar references, on awkward lengths and offsets. */
class ElementwiseKernelTest {
    /** Lengths around the vector width (16 lanes on AVX-512), and one past the parallel grain. */
    private static final int[] SIZES = {0, 1, 7, 15, 16, 17, 33, 129, 4097, 100_003};

    @Test
    void addMulScaleAreBitExact() {
        Random rnd = new Random(1);
        for (int n : SIZES) {
            int aOff = 3, bOff = 5, oOff = 1;
            float[] a = gaussian(rnd, n + aOff, 1), b = gaussian(rnd, n + bOff, 1);
            float[] o1 = gaussian(rnd, n + oOff, 1), o2 = o1.clone();
            // same float operation per element in both: results must match exactly
            Elementwise.add(o1, oOff, a, aOff, b, bOff, n);
            Elementwise.addReference(o2, oOff, a, aOff, b, bOff, n);
            assertArrayEquals(o2, o1, "add n=" + n);
            Elementwise.mul(o1, oOff, a, aOff, b, bOff, n);
            Elementwise.mulReference(o2, oOff, a, aOff, b, bOff, n);
            assertArrayEquals(o2, o1, "mul n=" + n);
            Elementwise.scale(o1, oOff, a, aOff, -1.7f, n);
            Elementwise.scaleReference(o2, oOff, a, aOff, -1.7f, n);
            assertArrayEquals(o2, o1, "scale n=" + n);
        }
    }

    @Test
    void axpyMatchesReference() {
        Random rnd = new Random(2);
        for (int n : SIZES) {
            float[] x = gaussian(rnd, n + 2, 1), y1 = gaussian(rnd, n + 4, 1), y2 = y1.clone();
            Elementwise.axpy(0.37f, x, 2, y1, 4, n);
            Elementwise.axpyReference(0.37f, x, 2, y2, 4, n);
            // fast uses one fused multiply-add (one rounding), the reference two roundings:
            // they differ by at most half an ulp of alpha*x (~3e-8 for |alpha*x| < 1).
            assertClose("axpy n=" + n, y2, y1, 1e-7, 1.2e-7);
            // untouched prefix: offsets respected
            assertEquals(y2[0], y1[0]);
        }
    }

    @Test
    void sumsMatchDoubleReference() {
        Random rnd = new Random(3);
        for (int n : SIZES) {
            float[] a = gaussian(rnd, n + 9, 3);
            double abs = 0, sq = 0;
            for (int i = 9; i < n + 9; i++) { abs += Math.abs(a[i]); sq += (double) a[i] * a[i]; }
            // both widen every float to double before adding (or squaring), so only the double
            // summation order differs: ~n * 2^-53 relative to sum|a|
            assertEquals(Elementwise.sumReference(a, 9, n), Elementwise.sum(a, 9, n), 1e-13 * abs + 1e-300, "sum n=" + n);
            assertEquals(Elementwise.sumSquaresReference(a, 9, n), Elementwise.sumSquares(a, 9, n), 1e-13 * sq + 1e-300, "sumSquares n=" + n);
        }
        assertEquals(0.0, Elementwise.sum(new float[0], 0, 0));
    }

    @Test
    void badShapesFailWithClearMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.add(new float[4], 0, new float[4], 1, new float[4], 0, 4));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("a"), e.getMessage());
        // the operand's expected shape is in the message (built only when the check fails)
        assertTrue(e.getMessage().contains("[n=4] needs 4 floats from offset 1 but its array has length 4"), e.getMessage());
    }
}

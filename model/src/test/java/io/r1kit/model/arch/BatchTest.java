package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The right-padded prompt+completion layout and its target / mask / scatter helpers. */
class BatchTest {
    @Test
    void layoutTargetsAndScatter() {
        Batch b = Batch.of(List.of(new int[] {1, 2, 3}, new int[] {4}), List.of(new int[] {5, 6}, new int[] {7, 8, 9}));
        assertEquals(2, b.B());
        assertEquals(5, b.T());
        assertArrayEquals(new int[] {1, 2, 3, 5, 6, 4, 7, 8, 9, 0}, b.ids());
        assertArrayEquals(new byte[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, b.keyMask());
        // row 0: prompt 3 tokens -> completion token j scored at column 2 + j
        assertArrayEquals(new int[] {-1, -1, 5, 6, -1, 7, 8, 9, -1, -1}, b.targets());
        assertArrayEquals(new float[] {0, 0, 1, 1, 0, 1, 1, 1, 0, 0}, b.completionMask().data());
        var t = b.completionTensor(List.of(new float[] {-1, -2}, new float[] {-3, -4, -5}));
        assertArrayEquals(new float[] {0, 0, -1, -2, 0, -3, -4, -5, 0, 0}, t.data());
        assertArrayEquals(new float[] {-3, -4, -5}, b.completionValues(t, 1));
        assertThrows(IllegalArgumentException.class, () -> b.completionTensor(List.of(new float[] {1}, new float[] {1, 2, 3})));
        assertThrows(IllegalArgumentException.class, () -> Batch.of(List.of(new int[0]), List.of(new int[] {1})));
    }
}

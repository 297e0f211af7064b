package io.r1kit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class LibTorchSmokeTest {
    @Test
    void libtorchLoadsOffline() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            NDArray a = m.create(new float[] {1, 2, 3, 4}, new ai.djl.ndarray.types.Shape(2, 2));
            NDArray b = a.matMul(a);
            assertArrayEquals(new float[] {7, 10, 15, 22}, b.toFloatArray(), 0f);
        }
    }
}

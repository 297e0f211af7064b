package io.r1kit.model.testing;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The op-check harness must be able to fail: wrong forward, wrong gradient, wrong shape. */
class TorchRefTest {
    static final TorchRef.Tol TIGHT = new TorchRef.Tol(1e-6, 1e-6, "harness self-test");
    static TorchRef torch;

    @BeforeAll
    static void open() { torch = TorchRef.open(); }

    @AfterAll
    static void close() { torch.close(); }

    @Test
    void roundTripsThroughNdArray() {
        Tensor x = TorchRef.randn(1, 2, 3, 5);
        Tensor back = TorchRef.tensor(torch.nd(x));
        assertArrayEquals(x.shape(), back.shape());
        assertArrayEquals(x.data(), back.data());
    }

    @Test
    void detectsWrongForward() {
        Tensor x = TorchRef.randn(2, 4, 3);
        var e = assertThrows(AssertionFailedError.class, () -> torch.checkOp("wrong fwd", TIGHT, List.of(x),
                t -> F.scale(t.get(0), 1.001f), t -> t.get(0)));
        assertTrue(e.getMessage().contains("forward"), e.getMessage());
    }

    @Test
    void detectsWrongGradient() {
        // same values (x·x vs x²), but the "torch" side detaches one factor: gradient x vs 2x
        Tensor x = TorchRef.randn(3, 4, 3);
        var e = assertThrows(AssertionFailedError.class, () -> torch.checkOp("wrong grad", TIGHT, List.of(x),
                t -> F.mul(t.get(0), t.get(0)), t -> t.get(0).mul(t.get(0).stopGradient())));
        assertTrue(e.getMessage().contains("grad"), e.getMessage());
    }

    @Test
    void detectsWrongShape() {
        Tensor x = TorchRef.randn(4, 6);
        assertThrows(AssertionFailedError.class, () -> torch.checkOp("wrong shape", TIGHT, List.of(x),
                t -> F.reshape(t.get(0), 2, 3), t -> t.get(0)));
    }
}

package io.r1kit.model.autograd;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.GradFn;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Engine semantics: accumulation, diamonds, no-grad, graph release, errors. Exact small-integer arithmetic. */
@SuppressWarnings("try")
class AutogradTest {

    @Test
    void gradientsOfADiamondAccumulate() {
        // y = x·x + 3x used twice: dy/dx = 2x + 3, reached through two paths
        Tensor x = Tensor.vector(1, 2, -3).requiresGrad(true);
        Tensor a = F.mul(x, x), b = F.scale(x, 3f);
        Tensor y = F.sum(F.add(a, b));
        y.backward();
        assertArrayEquals(new float[] {5, 7, -3}, x.gradData());
        // a second step accumulates until zeroGrad, like torch
        F.sum(F.scale(x, 2f)).backward();
        assertArrayEquals(new float[] {7, 9, -1}, x.gradData());
        x.zeroGrad();
        assertArrayEquals(new float[3], x.gradData());
    }

    @Test
    void tensorUsedByTwoOpsReceivesBothContributions() {
        Tensor w = Tensor.vector(2, 5).requiresGrad(true);
        Tensor h = F.mul(w, w);                      // intermediate used twice
        Tensor loss = F.sum(F.add(F.scale(h, 2f), h));  // 3 w²
        loss.backward();
        assertArrayEquals(new float[] {12, 30}, w.gradData());
    }

    @Test
    void backwardWithUpstreamGradient() {
        Tensor x = Tensor.vector(1, 2).requiresGrad(true);
        F.scale(x, 4f).backward(Tensor.vector(1, -1));
        assertArrayEquals(new float[] {4, -4}, x.gradData());
        var e = assertThrows(IllegalStateException.class, () -> F.scale(x, 4f).backward());
        assertTrue(e.getMessage().contains("scalar"), e.getMessage());
    }

    @Test
    void graphIsReleasedAfterBackward() {
        Tensor x = Tensor.vector(1, 2).requiresGrad(true);
        Tensor h = F.exp(x);
        Tensor loss = F.sum(F.mul(h, h));
        GradFn lossNode = loss.gradFn();
        assertEquals(1, lossNode.inputs().length);
        loss.backward();
        assertNull(loss.gradFn(), "root node released");
        assertNull(h.gradFn(), "intermediate node released");
        assertEquals(0, lossNode.inputs().length, "node dropped its inputs");
        assertNull(h.gradData(), "intermediate gradient freed");
        assertTrue(x.gradData() != null && x.isLeaf());
        var e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("released"), e.getMessage());
    }

    @Test
    void secondBackwardThroughAReleasedSubgraphFailsLoudly() {
        Tensor x = Tensor.vector(1, 2).requiresGrad(true);
        Tensor h = F.exp(x);
        F.sum(h).backward();
        var e = assertThrows(IllegalStateException.class, () -> F.sum(F.scale(h, 2f)).backward());
        assertTrue(e.getMessage().contains("released"), e.getMessage());
    }

    /** Builds loss = sum(exp(x·Wᵀ)²) and returns it with a weak reference to the intermediate exp(...). */
    private static Object[] buildStep(Parameter w, Tensor x) {
        Tensor h = F.exp(F.linear(x, w));
        return new Object[] {F.sum(F.mul(h, h)), new WeakReference<>(h)};
    }

    private static boolean collected(WeakReference<?> ref) throws InterruptedException {
        for (int i = 0; i < 20 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(5);
        }
        return ref.get() == null;
    }

    @Test
    void activationsAreFreedByBackwardAndNeverKeptUnderNoGrad() throws InterruptedException {
        Parameter w = Parameter.randn("w", new SplittableRandom(3), 0.1f, 64, 32);
        Tensor x = Tensor.randn(4L, 8, 32);
        Object[] step = buildStep(w, x);
        Tensor loss = (Tensor) step[0];
        WeakReference<?> h = (WeakReference<?>) step[1];
        assertFalse(collected(h), "control: before backward the graph holds the activation");
        loss.backward();
        assertTrue(collected(h), "after backward nothing (loss, leaves) references the activation");
        try (var ng = Grad.noGrad()) {
            Object[] inf = buildStep(w, x);
            assertTrue(collected((WeakReference<?>) inf[1]), "no-grad output keeps no activation alive");
            assertFalse(((Tensor) inf[0]).requiresGrad());
        }
    }

    @Test
    void retainGradKeepsAnIntermediateGradient() {
        Tensor x = Tensor.vector(3).requiresGrad(true);
        Tensor h = F.scale(x, 2f).retainGrad();
        F.sum(F.mul(h, h)).backward();
        assertArrayEquals(new float[] {12}, h.gradData());
        assertArrayEquals(new float[] {24}, x.gradData());
    }

    @Test
    void noGradRecordsNothingAndIsPerThread() throws Exception {
        Parameter w = Parameter.randn("w", new SplittableRandom(1), 1f, 3, 4);
        Tensor x = Tensor.ones(2, 4);
        Tensor y;
        try (var ng = Grad.noGrad()) {
            assertFalse(Grad.isEnabled());
            y = F.sum(F.linear(x, w));
            // another thread is unaffected
            Thread t = new Thread(() -> assertTrue(Grad.isEnabled()));
            t.start();
            t.join();
        }
        assertTrue(Grad.isEnabled());
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        assertThrows(IllegalStateException.class, y::backward);
        Tensor z = F.sum(F.linear(x, w));
        assertTrue(z.requiresGrad() && z.gradFn() != null);
    }

    @Test
    void nestedScopesRestoreThePreviousMode() {
        try (var a = Grad.noGrad()) {
            try (var b = Grad.enableGrad()) {
                assertTrue(Grad.isEnabled());
            }
            assertFalse(Grad.isEnabled());
        }
        assertTrue(Grad.isEnabled());
    }

    @Test
    void detachCutsTheGraphAndOnlyLeavesAcceptRequiresGrad() {
        Tensor x = Tensor.vector(2).requiresGrad(true);
        Tensor h = F.scale(x, 3f);
        Tensor loss = F.sum(F.mul(h.detach(), x));   // d/dx = h (constant) = 6
        loss.backward();
        assertArrayEquals(new float[] {6}, x.gradData());
        assertThrows(IllegalStateException.class, () -> F.scale(x, 1f).requiresGrad(false));
        assertThrows(UnsupportedOperationException.class, () -> Parameter.zeros("p", 2).requiresGrad(false));
    }

    @Test
    void opsOnTensorsWithoutGradRecordNothing() {
        Tensor y = F.exp(Tensor.vector(1, 2));
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
    }

    @Test
    void deepChainDoesNotOverflowTheStack() {
        Tensor x = Tensor.vector(1).requiresGrad(true);
        Tensor h = x;
        for (int i = 0; i < 100_000; i++) h = F.addScalar(h, 1f);
        F.sum(h).backward();
        assertArrayEquals(new float[] {1}, x.gradData());
    }

    @Test
    void factoriesAndAccessors() {
        Tensor t = Tensor.randn(7L, 2, 3);
        assertEquals(6, t.numel());
        assertEquals(3, t.dim(-1));
        assertArrayEquals(Tensor.randn(7L, 2, 3).data(), t.data(), "seeded randn is reproducible");
        assertEquals(t.data()[4], t.get(1, 1));
        assertEquals(5f, Tensor.scalar(5f).item());
        assertThrows(IllegalStateException.class, t::item);
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.get(2, 0));
        float[] raw = {1, 2};
        assertTrue(Tensor.wrap(raw, 2).data() == raw);
        assertFalse(Tensor.of(raw, 2).data() == raw);
    }
}

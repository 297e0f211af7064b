package io.r1kit.model.backend.cpu;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/** Random inputs, closeness assertions that name the worst element, and the libtorch bridge. */
final class KernelTestSupport {
    private KernelTestSupport() {}

    /** -Dr1kit.printErrors=true prints every comparison's max error (to check tolerances keep a margin). */
    private static final boolean PRINT_ERRORS = Boolean.getBoolean("r1kit.printErrors");

    static float[] gaussian(Random rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * std);
        return a;
    }

    static float[] uniform(Random rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return a;
    }

    /**
     * Asserts |actual - expected| <= atol + rtol * |expected| elementwise; on failure names the
     * worst element, its values and the max error, so a failure says how far off it is.
     */
    static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + " != expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0, maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e) != Double.isNaN(a) || (Double.isInfinite(e) && e != a)) {
                fail(what + ": element " + i + " is " + a + ", expected " + e);
            }
            if (Double.isNaN(e) || Double.isInfinite(e)) continue;
            double err = Math.abs(a - e);
            maxErr = Math.max(maxErr, err);
            double excess = err - (atol + rtol * Math.abs(e));
            if (excess > worstExcess) {
                worstExcess = excess;
                worst = i;
            }
        }
        if (PRINT_ERRORS) System.out.printf("max|err| %-60s %.3g (atol %.1g, rtol %.1g)%n", what, maxErr, atol, rtol);
        if (worst >= 0) {
            fail(what + ": element " + worst + " is " + actual[worst] + ", expected " + expected[worst]
                    + " (|err| " + Math.abs(actual[worst] - expected[worst]) + " > atol " + atol + " + rtol " + rtol
                    + " * |expected|; max |err| over all " + maxErr + ")");
        }
    }

    static float[] copy(float[] a) {
        return a.clone();
    }

    // ------------------------------------------------------------------ libtorch

    static NDManager torch() {
        return NDManager.newBaseManager("PyTorch");
    }

    /** Result of a libtorch forward + backward: the output and the gradient of each input. */
    record TorchResult(float[] out, float[][] grads) {}

    /**
     * Runs {@code f} on the given inputs in libtorch with gradients on, then backward of
     * sum(f(inputs) * upstream), i.e. the vector-Jacobian product with {@code upstream}.
     */
    static TorchResult torchVjp(NDManager m, float[][] inputs, Shape[] shapes, float[] upstream,
                                Function<NDArray[], NDArray> f) {
        NDArray[] xs = new NDArray[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            xs[i] = m.create(inputs[i], shapes[i]);
            xs[i].setRequiresGradient(true);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = f.apply(xs);
            NDArray loss = y.mul(m.create(upstream, y.getShape())).sum();
            gc.backward(loss);
            float[][] grads = new float[inputs.length][];
            for (int i = 0; i < inputs.length; i++) grads[i] = xs[i].getGradient().toFloatArray();
            return new TorchResult(y.toFloatArray(), grads);
        }
    }
}

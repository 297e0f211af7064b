package io.r1kit.model.testing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.CpuBackend;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bridge to libtorch (DJL PyTorch engine, offline) that ops and models are checked against:
 * Tensor ↔ NDArray conversion, seeded random tensors, closeness assertions that report the
 * worst element, and {@link #checkOp}: forward and gradients of an r1kit computation against the
 * same computation built from torch ops and differentiated by torch autograd.
 *
 * <p>Open one per test class ({@code TorchRef.open()} in @BeforeAll, close in @AfterAll).
 */
@SuppressWarnings("try")
public final class TorchRef implements AutoCloseable {
    private final NDManager manager;

    private TorchRef(NDManager manager) {
        this.manager = manager;
    }

    public static TorchRef open() {
        return new TorchRef(NDManager.newBaseManager("PyTorch"));
    }

    public NDManager manager() {
        return manager;
    }

    @Override
    public void close() {
        manager.close();
    }

    // ------------------------------------------------------------------ conversion

    /** A float32 NDArray copy of {@code t} (same shape). */
    public NDArray nd(Tensor t) {
        return manager.create(t.toArray(), new ai.djl.ndarray.types.Shape(toLong(t.shape())));
    }

    /** A float64 NDArray copy of {@code t}, for double-precision references. */
    public NDArray nd64(Tensor t) {
        return nd(t).toType(DataType.FLOAT64, false);
    }

    /** A float32 NDArray of the given values and shape. */
    public NDArray nd(float[] values, int... shape) {
        return manager.create(values.clone(), new ai.djl.ndarray.types.Shape(toLong(shape)));
    }

    /** An int64 NDArray (torch's index type) of the given ids and shape, e.g. for embedding lookups in torch. */
    public NDArray ndLong(int[] values, int... shape) {
        long[] l = new long[values.length];
        for (int i = 0; i < l.length; i++) l[i] = values[i];
        return manager.create(l, new ai.djl.ndarray.types.Shape(toLong(shape)));
    }

    /** A Tensor copy of an NDArray (converted to float32). */
    public static Tensor tensor(NDArray a) {
        long[] s = a.getShape().getShape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) shape[i] = Math.toIntExact(s[i]);
        return Tensor.of(a.toType(DataType.FLOAT32, false).toFloatArray(), shape);
    }

    private static long[] toLong(int[] s) {
        long[] l = new long[s.length];
        for (int i = 0; i < s.length; i++) l[i] = s[i];
        return l;
    }

    // ------------------------------------------------------------------ random data

    /** Standard normal tensor from a SplittableRandom seeded with {@code seed}. */
    public static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new SplittableRandom(seed), 1f, shape);
    }

    /** Uniform [lo, hi) tensor from a seeded generator. */
    public static Tensor uniform(long seed, float lo, float hi, int... shape) {
        return Tensor.uniform(new SplittableRandom(seed), lo, hi, shape);
    }

    /** A 0/1 mask with roughly {@code pKeep} ones. */
    public static Tensor mask(long seed, double pKeep, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor m = Tensor.zeros(shape);
        float[] d = m.data();
        for (int i = 0; i < d.length; i++) d[i] = r.nextDouble() < pKeep ? 1f : 0f;
        return m;
    }

    // ------------------------------------------------------------------ backends

    /**
     * The backends op tests run on: the scalar reference first, then the fast CPU backend.
     */
    public static List<Backend> backends() {
        return List.of(ReferenceBackend.INSTANCE, CpuBackend.INSTANCE);
    }

    // ------------------------------------------------------------------ assertions

    /**
     * Asserts |expected - actual| <= atol + rtol·|expected| elementwise; the message names the
     * worst element and its values. Non-finite values must match exactly.
     */
    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length)
            fail(what + ": length " + actual.length + " != expected " + expected.length);
        int worst = -1;
        double worstExcess = 0, worstErr = 0;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            if (!Float.isFinite(e) || !Float.isFinite(a)) {
                if (Float.compare(e, a) != 0) fail(what + ": element " + i + " expected " + e + " got " + a);
                continue;
            }
            double err = Math.abs((double) e - a), allowed = atol + rtol * Math.abs(e);
            if (err - allowed > worstExcess) {
                worstExcess = err - allowed;
                worst = i;
                worstErr = err;
            }
        }
        if (worst >= 0)
            fail(String.format("%s: element %d expected %.8g got %.8g (|err| %.3g > atol %.1g + rtol %.1g·|e|), n=%d",
                    what, worst, expected[worst], actual[worst], worstErr, atol, rtol, expected.length));
    }

    public static void assertShape(String what, int[] expected, Tensor t) {
        assertArrayEquals(expected, t.shape(), what + ": shape " + Arrays.toString(t.shape()));
    }

    // ------------------------------------------------------------------ op check

    /** Tolerances of one check; {@code why} is the written-down reason shown in failures. */
    public record Tol(double atol, double rtol, String why) {}

    /**
     * Checks an op's forward and its gradient w.r.t. every input in {@code diff} against torch:
     * r1kit runs {@code ours} on leaf copies of {@code inputs} and backward with a random upstream
     * gradient g; torch runs {@code theirs} on NDArray copies under a GradientCollector and
     * backward of sum(out·g). Runs once per backend in {@link #backends()} (a backend whose kernel
     * is missing fails the test); returns the r1kit
     * output of the last backend.
     */
    public Tensor checkOp(String name, Tol tol, List<Tensor> inputs, boolean[] diff,
                          Function<List<Tensor>, Tensor> ours, Function<List<NDArray>, NDArray> theirs) {
        // torch reference, once
        List<NDArray> nds = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            NDArray a = nd(inputs.get(i));
            if (diff[i]) a.setRequiresGradient(true);
            nds.add(a);
        }
        float[] refOut;
        int[] refShape;
        Tensor upstream;
        List<float[]> refGrads = new ArrayList<>();
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray out = theirs.apply(nds);
            Tensor outT = tensor(out);
            refOut = outT.toArray();
            refShape = outT.shape();
            upstream = randn(name.hashCode() * 31L + 7, refShape);
            NDArray loss = out.mul(nd(upstream)).sum();
            gc.backward(loss);
            for (int i = 0; i < inputs.size(); i++)
                refGrads.add(diff[i] ? tensor(nds.get(i).getGradient()).toArray() : null);
        }
        Tensor last = null;
        for (Backend be : backends()) {
            String tag = name + " [" + be.name() + "]";
            try (var scope = Backends.use(be)) {
                List<Tensor> leaves = new ArrayList<>();
                for (int i = 0; i < inputs.size(); i++) leaves.add(inputs.get(i).copy().requiresGrad(diff[i]));
                Tensor out = ours.apply(leaves);
                assertArrayEquals(refShape, out.shape(), tag + ": output shape");
                assertClose(tag + " forward (" + tol.why() + ")", refOut, out.toArray(), tol.atol(), tol.rtol());
                out.backward(upstream);
                for (int i = 0; i < inputs.size(); i++) {
                    if (!diff[i]) continue;
                    float[] g = leaves.get(i).gradData();
                    if (g == null) g = new float[inputs.get(i).numel()];
                    assertClose(tag + " grad of input " + i + " (" + tol.why() + ")", refGrads.get(i), g, tol.atol(), tol.rtol());
                }
                last = out;
            }
        }
        return last;
    }

    /** {@link #checkOp} with every input differentiable. */
    public Tensor checkOp(String name, Tol tol, List<Tensor> inputs,
                          Function<List<Tensor>, Tensor> ours, Function<List<NDArray>, NDArray> theirs) {
        boolean[] diff = new boolean[inputs.size()];
        Arrays.fill(diff, true);
        return checkOp(name, tol, inputs, diff, ours, theirs);
    }
}

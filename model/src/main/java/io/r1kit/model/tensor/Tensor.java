package io.r1kit.model.tensor;

import io.r1kit.model.autograd.Backward;
import io.r1kit.model.autograd.Node;
import io.r1kit.model.ops.F;

import java.util.Arrays;
import java.util.BitSet;
import java.util.random.RandomGenerator;
import java.util.SplittableRandom;

/**
 * A float32 tensor: a shape and contiguous row-major storage, plus what reverse-mode autodiff
 * needs (a requires-grad flag, a lazily allocated gradient and the {@link Node} that produced it).
 *
 * <p>Tensors are created by the static factories ({@link #zeros}, {@link #of}, {@link #randn}, ...)
 * and by ops ({@link F} or the fluent methods here, which delegate to {@link F}). Ops never
 * modify their inputs. Storage is only reached through {@link #data()} (the CPU array) so that a
 * device backend can later add device storage behind the same methods.
 *
 * <p>Gradients: {@link #backward()} on a scalar loss accumulates d loss / d leaf into every leaf
 * that requires grad (read with {@link #grad()}); intermediate gradients are freed as soon as
 * they have been propagated, and the graph is released when backward ends.
 */
public class Tensor {
    private final int[] shape;
    private final float[] data;
    private boolean requiresGrad;
    private float[] grad;
    private Node gradFn;
    private boolean retainGrad;
    private boolean graphReleased;
    // Sparse-gradient bookkeeping: while only row-scatter ops (embedding) wrote into grad,
    // gradRows lists the touched rows so zeroGrad clears just those.
    private boolean gradDense;
    private BitSet gradRows;
    private int gradRowSize;

    /** Wraps {@code data} (no copy) as a tensor of the given shape. Prefer the factories. */
    protected Tensor(float[] data, int[] shape) {
        int n = Shape.numel(shape);
        if (data.length != n)
            throw new IllegalArgumentException("data length " + data.length + " does not match shape "
                    + Shape.str(shape) + " (" + n + " elements)");
        this.shape = shape.clone();
        this.data = data;
    }

    // ------------------------------------------------------------------ factories

    /** A tensor over {@code data} without copying it (the caller gives up the array). */
    public static Tensor wrap(float[] data, int... shape) {
        return new Tensor(data, shape);
    }

    /** A tensor holding a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(data.clone(), shape);
    }

    /** A 1-D tensor of the given values. */
    public static Tensor vector(float... values) {
        return new Tensor(values.clone(), new int[] {values.length});
    }

    /** A 0-d (scalar) tensor. */
    public static Tensor scalar(float value) {
        return new Tensor(new float[] {value}, new int[0]);
    }

    public static Tensor zeros(int... shape) {
        return new Tensor(new float[Shape.numel(shape)], shape);
    }

    public static Tensor ones(int... shape) {
        return full(1f, shape);
    }

    public static Tensor full(float value, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        Arrays.fill(d, value);
        return new Tensor(d, shape);
    }

    /** 0, 1, ..., n-1 as floats. */
    public static Tensor arange(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return new Tensor(d, new int[] {n});
    }

    /** Standard normal entries times {@code std}, drawn from {@code rng} (reproducible for a seeded generator). */
    public static Tensor randn(RandomGenerator rng, float std, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (rng.nextGaussian() * std);
        return new Tensor(d, shape);
    }

    /** Standard normal entries from a {@link SplittableRandom} seeded with {@code seed}. */
    public static Tensor randn(long seed, int... shape) {
        return randn(new SplittableRandom(seed), 1f, shape);
    }

    /** Uniform entries in [lo, hi). */
    public static Tensor uniform(RandomGenerator rng, float lo, float hi, int... shape) {
        float[] d = new float[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.nextFloat();
        return new Tensor(d, shape);
    }

    /** A zero tensor with the same shape as this one. */
    public Tensor zerosLike() {
        return zeros(shape);
    }

    // ------------------------------------------------------------------ shape and data

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Size of dimension {@code d} (negative counts from the end). */
    public int dim(int d) {
        return shape[Shape.dim("dim", d, shape.length)];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return data.length;
    }

    /**
     * The live row-major CPU storage (not a copy): kernels read and write it, loaders fill it.
     * Writing into it after the tensor was used by an op that saved it for backward corrupts that
     * op's gradient.
     */
    public float[] data() {
        return data;
    }

    /** The single value of a one-element tensor. */
    public float item() {
        if (data.length != 1)
            throw new IllegalStateException("item() needs a one-element tensor, got shape " + Shape.str(shape));
        return data[0];
    }

    /** A copy of the storage. */
    public float[] toArray() {
        return data.clone();
    }

    /** The element at the given full index. */
    public float get(int... index) {
        return data[flatIndex(index)];
    }

    /** Sets the element at the given full index (for building inputs; not recorded by autograd). */
    public void set(float value, int... index) {
        data[flatIndex(index)] = value;
    }

    private int flatIndex(int[] index) {
        if (index.length != shape.length)
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has rank " + index.length
                    + " but tensor has shape " + Shape.str(shape));
        int f = 0;
        for (int i = 0; i < shape.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i])
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape "
                        + Shape.str(shape));
            f = f * shape[i] + index[i];
        }
        return f;
    }

    // ------------------------------------------------------------------ autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as requiring (or not) gradients; returns this. */
    public Tensor requiresGrad(boolean value) {
        if (gradFn != null)
            throw new IllegalStateException("requiresGrad can only be set on leaf tensors; this one was produced by "
                    + gradFn.name() + " (use detach())");
        this.requiresGrad = value;
        return this;
    }

    /** True when the tensor was not produced by a recorded op (user-created, parameters, detached). */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** The node that produced this tensor, or null for leaves and after the graph was released. */
    public Node gradFn() {
        return gradFn;
    }

    /**
     * For ops: makes this tensor the output of {@code node} (sets requiresGrad). Use via
     * {@link io.r1kit.model.autograd.Grad#attach}.
     */
    public void attachGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    /** For the backward engine: the node has run and was released. */
    public void releaseGradFn() {
        this.gradFn = null;
        this.graphReleased = true;
    }

    /** True once a backward pass through this (non-leaf) tensor has released its graph. */
    public boolean graphReleased() {
        return graphReleased;
    }

    /** Keep this non-leaf tensor's gradient after backward (like torch retain_grad); returns this. */
    public Tensor retainGrad() {
        this.retainGrad = true;
        return this;
    }

    public boolean retainsGrad() {
        return retainGrad || gradFn == null;
    }

    /** The accumulated gradient as a tensor sharing the gradient storage, or null if none yet. */
    public Tensor grad() {
        return grad == null ? null : new Tensor(grad, shape);
    }

    /** The raw gradient storage, or null if none was allocated. */
    public float[] gradData() {
        return grad;
    }

    /**
     * For ops' backward: the gradient storage to ACCUMULATE into (allocated zeroed on first use).
     * Marks the gradient as dense, so {@link #zeroGrad()} clears all of it.
     */
    public float[] gradBuffer() {
        if (grad == null) grad = new float[data.length];
        gradDense = true;
        return grad;
    }

    /**
     * For row-scatter backward passes (embedding): the gradient storage, recording that only
     * {@code rows} (rows of {@code rowSize} elements) are written, so zeroing stays cheap.
     */
    public float[] gradBufferForRows(int[] rows, int rowSize) {
        if (grad == null) grad = new float[data.length];
        if (!gradDense) {
            if (gradRows == null) gradRows = new BitSet();
            gradRowSize = rowSize;
            for (int r : rows) if (r >= 0) gradRows.set(r);
        }
        return grad;
    }

    /** Rows written by sparse backward passes since the last zeroGrad, or null if the gradient is dense. */
    public BitSet sparseGradRows() {
        return gradDense || gradRows == null ? null : (BitSet) gradRows.clone();
    }

    /** Sets the gradient to zero, keeping its storage (only touched rows for sparse gradients). */
    public void zeroGrad() {
        if (grad == null) return;
        if (gradDense || gradRows == null) {
            Arrays.fill(grad, 0f);
        } else {
            for (int r = gradRows.nextSetBit(0); r >= 0; r = gradRows.nextSetBit(r + 1))
                Arrays.fill(grad, r * gradRowSize, (r + 1) * gradRowSize, 0f);
        }
        gradDense = false;
        if (gradRows != null) gradRows.clear();
    }

    /** Drops the gradient storage entirely (frees memory; the next backward reallocates). */
    public void clearGrad() {
        grad = null;
        gradDense = false;
        gradRows = null;
    }

    /** Backward from a one-element tensor (the loss): accumulates gradients into all leaves. */
    public void backward() {
        if (data.length != 1)
            throw new IllegalStateException("backward() without an upstream gradient needs a scalar loss, got shape "
                    + Shape.str(shape) + "; use backward(gradOutput)");
        Backward.run(this, new float[] {1f});
    }

    /** Backward with an explicit upstream gradient of this tensor's shape. */
    public void backward(Tensor gradOutput) {
        Shape.requireEqual("backward(gradOutput)", shape, gradOutput.shape);
        Backward.run(this, gradOutput.data);
    }

    /** A leaf tensor sharing this storage, with no gradient history. */
    public Tensor detach() {
        return new Tensor(data, shape);
    }

    /** A leaf tensor holding a copy of the data. */
    public Tensor copy() {
        return new Tensor(data.clone(), shape);
    }

    // ------------------------------------------------------------------ fluent ops (see F)

    public Tensor add(Tensor o) { return F.add(this, o); }
    public Tensor sub(Tensor o) { return F.sub(this, o); }
    public Tensor mul(Tensor o) { return F.mul(this, o); }
    public Tensor div(Tensor o) { return F.div(this, o); }
    public Tensor mul(float s) { return F.scale(this, s); }
    public Tensor add(float s) { return F.addScalar(this, s); }
    public Tensor neg() { return F.neg(this); }
    public Tensor exp() { return F.exp(this); }
    public Tensor log() { return F.log(this); }
    public Tensor sqrt() { return F.sqrt(this); }
    public Tensor pow(float p) { return F.pow(this, p); }
    public Tensor clamp(float min, float max) { return F.clamp(this, min, max); }
    public Tensor matmul(Tensor o) { return F.matmul(this, o); }
    public Tensor sum() { return F.sum(this); }
    public Tensor sum(int dim, boolean keepDim) { return F.sum(this, dim, keepDim); }
    public Tensor mean() { return F.mean(this); }
    public Tensor mean(int dim, boolean keepDim) { return F.mean(this, dim, keepDim); }
    public Tensor reshape(int... newShape) { return F.reshape(this, newShape); }
    public Tensor transpose(int d0, int d1) { return F.transpose(this, d0, d1); }
    public Tensor slice(int dim, int start, int end) { return F.slice(this, dim, start, end); }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append(Shape.str(shape));
        if (gradFn != null) sb.append(" grad_fn=").append(gradFn.name());
        else if (requiresGrad) sb.append(" requiresGrad");
        sb.append(" [");
        int n = Math.min(data.length, 6);
        for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append(data[i]);
        if (data.length > n) sb.append(", ...");
        return sb.append(']').toString();
    }
}

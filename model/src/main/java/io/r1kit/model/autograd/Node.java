package io.r1kit.model.autograd;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.tensor.GradFn;
import io.r1kit.model.tensor.Tensor;

/**
 * One recorded op in the autodiff graph: its inputs and whatever it saved in the forward pass.
 * The backward engine calls {@link #backward} once with the gradient of the node's output, and
 * the node ACCUMULATES the gradient of each input that requires grad into
 * {@code input.gradBuffer()}. Afterwards {@link #release} drops every saved reference so the
 * step's activations become garbage.
 */
public abstract class Node implements GradFn {
    private final String name;
    private Tensor[] inputs;

    protected Node(String name, Tensor... inputs) {
        this.name = name;
        this.inputs = inputs;
    }

    /** The op name, e.g. "matmul" (shown in errors and toString). */
    @Override
    public String name() {
        return name;
    }

    /** The tensors this node's output was computed from (empty after release). */
    @Override
    public Tensor[] inputs() {
        return inputs == null ? new Tensor[0] : inputs;
    }

    /** Runs the engine ({@link Backward#run}) from {@code root}, the output of this node. */
    @Override
    public final void backpropagateFrom(Tensor root, float[] seed) {
        Backward.run(root, seed);
    }

    /** Runs the engine ({@link Backward#runOnDevice}) from {@code root}, the output of this node. */
    @Override
    public final void backpropagateFromOnDevice(Tensor root, Tensor gradOutput) {
        Backward.runOnDevice(root, gradOutput);
    }

    /** Input i, for subclasses. */
    protected Tensor input(int i) {
        return inputs[i];
    }

    /** Accumulates input gradients given {@code gradOut}, the gradient of this node's output (read only). */
    protected abstract void backward(float[] gradOut);

    /**
     * The device twin of {@link #backward}: {@code gradOut} is the output's F32 gradient on the
     * device, and the node accumulates into each input's {@code deviceGradBuffer()}. Host-only
     * ops do not override it.
     */
    protected void backwardDevice(DeviceArray gradOut) {
        throw new UnsupportedOperationException(name + ": this op has no device backward (its inputs should never have been on a device)");
    }

    /** Drops saved activations; subclasses null their own fields (then call super). */
    protected void release() {
        inputs = null;
    }

    final void runBackward(float[] gradOut) {
        if (inputs == null) throw new IllegalStateException(name + ": graph already released (backward ran twice?)");
        backward(gradOut);
    }

    final void runBackwardDevice(DeviceArray gradOut) {
        if (inputs == null) throw new IllegalStateException(name + ": graph already released (backward ran twice?)");
        backwardDevice(gradOut);
    }

    final void releaseAll() {
        release();
        inputs = null;
    }

    @Override
    public String toString() {
        return name;
    }
}

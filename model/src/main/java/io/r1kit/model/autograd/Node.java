package io.r1kit.model.autograd;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.GradFn;
import io.r1kit.model.tensor.Tensor;

/**
 * One recorded op in the autodiff graph: its inputs and whatever it saved in the forward pass.
 * The backward engine calls {@link #backwardDevice} once with the gradient of the node's output
 * (a host-only op receives it through {@link #backward}), and the node ACCUMULATES the gradient
 * of each input that requires grad into the input's gradient buffer. Afterwards {@link #release} drops every saved reference so the
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
    public final void backpropagateFrom(Tensor root, Tensor gradOutput) {
        Backward.run(root, gradOutput);
    }

    /** Input i, for subclasses. */
    protected Tensor input(int i) {
        return inputs[i];
    }

    /** Accumulates input gradients given {@code gradOut}, the gradient of this node's output (read only). */
    protected abstract void backward(float[] gradOut);

    /**
     * What the engine calls: {@code gradOut} is the output's F32 gradient where the output lives,
     * and the node accumulates into each input's {@code deviceGradBuffer()}. Ops written against
     * {@code DeviceBackend} override it; for a host-only op (which overrides only {@link #backward})
     * a host gradient is passed on as its {@code float[]}.
     */
    protected void backwardDevice(DeviceArray gradOut) {
        if (!Backends.HOST.owns(gradOut))
            throw new UnsupportedOperationException(name + ": this op has no device backward (its inputs should never have been on a device)");
        backward(Backends.HOST.floats(gradOut, name));
    }

    /** Drops saved activations; subclasses null their own fields (then call super). */
    protected void release() {
        inputs = null;
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

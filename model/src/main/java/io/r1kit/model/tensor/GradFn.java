package io.r1kit.model.tensor;

/**
 * What produced a tensor in the autodiff graph, as the tensor sees it: a name for messages, the
 * inputs, and the entry to the reverse pass from the tensor it produced. Implemented by
 * {@code autograd.Node}, whose backward engine ({@code autograd.Backward}) runs the pass; the
 * tensor package depends on this interface only, never on the autograd engine or the ops.
 */
public interface GradFn {
    /** The op name, e.g. "matmul" (shown in errors and toString). */
    String name();

    /** The tensors the output was computed from (empty after release). */
    Tensor[] inputs();

    /** Runs backward from {@code root}, this function's output on the host, with upstream gradient {@code seed}. */
    void backpropagateFrom(Tensor root, float[] seed);

    /**
     * Runs backward from {@code root}, this function's output on a device, seeded with the device
     * tensor {@code gradOutput} of root's shape or, when null, with 1 (a one-element root).
     */
    void backpropagateFromOnDevice(Tensor root, Tensor gradOutput);
}

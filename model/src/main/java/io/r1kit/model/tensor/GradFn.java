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

    /**
     * Runs backward from {@code root}, this function's output, seeded with {@code gradOutput} (a
     * tensor of root's shape where root lives) or, when null, with 1 (a one-element root).
     */
    void backpropagateFrom(Tensor root, Tensor gradOutput);
}

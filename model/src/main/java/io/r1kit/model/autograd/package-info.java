/**
 * Reverse-mode autodiff: ops record {@link io.r1kit.model.autograd.Node}s on their outputs,
 * {@link io.r1kit.model.autograd.Backward} runs them in reverse topological order and releases
 * the graph, {@link io.r1kit.model.autograd.Grad} switches recording off per thread
 * ({@code try (var ng = Grad.noGrad())}), and {@link io.r1kit.model.autograd.Checkpoint}
 * trades recomputation for activation memory.
 */
package io.r1kit.model.autograd;

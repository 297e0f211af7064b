/**
 * Differentiable ops. {@link io.r1kit.model.ops.F} is the public facade (like
 * torch.nn.functional); each op lives in a small package-private class as a forward function
 * plus a {@link io.r1kit.model.autograd.Node} holding its backward, both calling the current
 * {@link io.r1kit.model.backend.Backend}'s kernels where one exists.
 */
package io.r1kit.model.ops;

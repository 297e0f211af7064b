/**
 * Tensors: {@link io.r1kit.model.tensor.Tensor} (float32, shape, contiguous row-major storage,
 * gradient state), {@link io.r1kit.model.tensor.Parameter} (named trainable leaf),
 * {@link io.r1kit.model.tensor.Shape} helpers and {@link io.r1kit.model.tensor.Backends}
 * (the current compute backend). The API overview for model and trainer code is in
 * {@code notes/tensor-api.md}.
 */
package io.r1kit.model.tensor;

package io.r1kit.model.arch;

import io.r1kit.model.tensor.Tensor;

/**
 * Per-position scores of given targets: {@code logprobs[b, t] = log p(target[b·T + t] | ids[b, ≤t])}
 * ([B, T], 0 where the target is negative) and, when asked for, the entropy of the model's
 * next-token distribution at each position ([B, T], else null). Both carry autograd history when
 * computed with gradients on.
 */
public record TokenScores(Tensor logprobs, Tensor entropy) {}

package io.r1kit.grpo.train;

/** Thrown when more consecutive steps than {@code max_non_finite_steps} had a NaN/Inf loss or gradient. */
public final class NonFiniteLossException extends IllegalStateException {
    public NonFiniteLossException(String message) {
        super(message);
    }
}

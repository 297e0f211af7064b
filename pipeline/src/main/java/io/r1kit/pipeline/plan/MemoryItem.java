package io.r1kit.pipeline.plan;

/**
 * One line of a stage's memory plan.
 *
 * @param what   what the bytes hold ("weights", "activations (micro-batch 8 × 256)", ...)
 * @param bytes  bytes needed on the stage's device
 * @param shrink the option that would make it smaller (shown when the plan does not fit)
 */
public record MemoryItem(String what, long bytes, String shrink) {}

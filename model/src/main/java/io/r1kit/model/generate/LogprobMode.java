package io.r1kit.model.generate;

/**
 * Which distribution the per-token log-probabilities returned with a sampled completion are
 * taken under. With temperature 1 and no top-k/top-p/min-p all three are the same number.
 */
public enum LogprobMode {
    /**
     * The distribution the token was actually drawn from: softmax(logits / T) restricted to the
     * tokens surviving top-k, then top-p, then min-p, renormalised (vLLM's
     * {@code logprobs_mode="processed_logprobs"}). This is the exact behaviour policy of the sample.
     */
    PROCESSED,
    /**
     * softmax(logits / T) over the whole vocabulary, no truncation: what TRL's GRPOTrainer computes
     * as the "old" policy log-prob (it re-scores completions with logits divided by the sampling
     * temperature), and what {@link Scorer} returns at the same temperature. Use this when the
     * sampled log-probs stand in for the old-policy log-probs with num_iterations = 1.
     */
    TEMPERATURE,
    /** softmax(logits) over the whole vocabulary (temperature 1, no truncation): vLLM's default raw_logprobs. */
    RAW
}

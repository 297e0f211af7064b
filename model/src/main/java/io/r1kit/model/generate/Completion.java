package io.r1kit.model.generate;

/**
 * One sampled completion.
 *
 * @param promptIndex  index of its prompt in the request
 * @param sampleIndex  0..n-1 within the prompt's group
 * @param tokens       generated token ids, including the stop token / the token that completed a stop string
 * @param logprobs     one log-probability per token, under the distribution chosen by
 *                     {@link SamplingParams#logprobMode()}
 * @param finishReason {@code stop} or {@code length}
 * @param stopReason   the stop token id (Integer) or stop string (String) that ended it, else null
 * @param text         the decoded completion (special tokens skipped when a Tokenizer decodes), or null without a decoder
 */
public record Completion(int promptIndex, int sampleIndex, int[] tokens, float[] logprobs,
                         FinishReason finishReason, Object stopReason, String text) {

    public int length() {
        return tokens.length;
    }

    /** Sum of the token log-probs (the sequence log-likelihood under the sampling distribution). */
    public double sumLogprob() {
        double s = 0;
        for (float f : logprobs) s += f;
        return s;
    }
}

package io.r1kit.grpo.rejection;

/**
 * One completion to judge and filter.
 *
 * @param sampleIndex  its index among the samples of its prompt
 * @param promptText   the prompt as the model saw it (template rendered)
 * @param completion   the completion text (special tokens skipped)
 * @param finishReason stop, length, or null when unknown (a source JSONL)
 * @param tokenIds     completion token ids (may be empty)
 */
public record Candidate(int sampleIndex, String promptText, String completion, String finishReason, int[] tokenIds) {
    public Candidate {
        promptText = promptText == null ? "" : promptText;
        completion = completion == null ? "" : completion;
        tokenIds = tokenIds == null ? new int[0] : tokenIds;
    }
}

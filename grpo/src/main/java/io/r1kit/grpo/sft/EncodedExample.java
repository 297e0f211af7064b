package io.r1kit.grpo.sft;

/**
 * One training example as token ids: {@code ids[0, contextLength)} is context only (the rendered
 * prompt, or just the first token of a raw document, which nothing predicts), and every token from
 * {@code contextLength} on is a loss target, predicted from the tokens before it.
 *
 * @param id            the dataset example's id (error messages)
 * @param ids           prompt ++ completion (++ EOS), at most max_seq_length tokens
 * @param contextLength tokens that get no loss, ≥ 1
 */
public record EncodedExample(String id, int[] ids, int contextLength) {

    public EncodedExample {
        if (contextLength < 1 || contextLength >= ids.length)
            throw new IllegalArgumentException("example '" + id + "': needs at least one context and one target token, got "
                    + ids.length + " tokens with " + contextLength + " context tokens");
    }

    public int length() {
        return ids.length;
    }

    /** Tokens that carry loss. */
    public int lossTokens() {
        return ids.length - contextLength;
    }

    public int[] context() {
        return java.util.Arrays.copyOfRange(ids, 0, contextLength);
    }

    public int[] targets() {
        return java.util.Arrays.copyOfRange(ids, contextLength, ids.length);
    }
}

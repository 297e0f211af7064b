package io.r1kit.model.generate;

/** Why a completion ended (the strings vLLM / OpenAI APIs use). */
public enum FinishReason {
    /** A stop token id or stop string was produced (it is included in the completion). */
    STOP("stop"),
    /** max_new_tokens was reached (or the model's position limit). */
    LENGTH("length");

    private final String wire;

    FinishReason(String wire) {
        this.wire = wire;
    }

    /** "stop" or "length". */
    public String wireName() {
        return wire;
    }

    @Override
    public String toString() {
        return wire;
    }
}

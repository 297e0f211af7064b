package io.r1kit.data.gen;

import java.util.SplittableRandom;

/**
 * The shapes an assistant reply takes in the toy corpora: the R1 format
 * {@code <think> … </think> <answer> … </answer>}, and the malformed ones a base model also produces.
 */
public final class Completions {
    private Completions() {}

    /** Ways a reply misses the format. */
    public enum Malformed {
        /** Just the answer. */
        DIRECT,
        /** Reasoning and "the answer is N", no tags. */
        UNTAGGED,
        /** {@code <answer> N </answer>} with no thinking. */
        ANSWER_ONLY,
        /** {@code <think>} never closed. */
        UNCLOSED_THINK,
        /** Thinking closed, answer not tagged. */
        NO_ANSWER_TAG;

        /** True when the shape shows reasoning. */
        public boolean hasReasoning() {
            return this == UNTAGGED || this == UNCLOSED_THINK || this == NO_ANSWER_TAG;
        }

        public static Malformed random(SplittableRandom r) {
            return values()[r.nextInt(values().length)];
        }
    }

    public static String formatted(String think, String answer) {
        return "<think> " + think + " </think> <answer> " + answer + " </answer>";
    }

    public static String malformed(Malformed kind, String think, String answer, Lang lang) {
        return switch (kind) {
            case DIRECT -> answer;
            case UNTAGGED -> think + " " + lang.answerIs + " " + answer;
            case ANSWER_ONLY -> "<answer> " + answer + " </answer>";
            case UNCLOSED_THINK -> "<think> " + think + " <answer> " + answer + " </answer>";
            case NO_ANSWER_TAG -> "<think> " + think + " </think> " + answer;
        };
    }
}

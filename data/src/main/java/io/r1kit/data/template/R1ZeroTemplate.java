package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.Example;
import java.util.List;

/**
 * The DeepSeek-R1-Zero training template, verbatim from Table 1 of the DeepSeek-R1 paper
 * (arXiv:2501.12948), with the paper's "prompt" replaced by the question. The assistant's reply
 * follows "Assistant:" after a space and opens with {@code <think>}; {@link #withThinkPrefill()}
 * puts that {@code <think>} into the prompt.
 */
public final class R1ZeroTemplate implements PromptTemplate {
    /** Everything before the question. */
    public static final String PREFIX = "A conversation between User and Assistant. The user asks a question, and the "
            + "Assistant solves it. The assistant first thinks about the reasoning process in the mind and then "
            + "provides the user with the answer. The reasoning process and answer are enclosed within "
            + "<think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here "
            + "</think> <answer> answer here </answer>. User: ";
    /** Everything after the question. */
    public static final String SUFFIX = ". Assistant:";

    private final String column;

    /** The question comes from the {@code prompt} column. */
    public R1ZeroTemplate() {
        this(Example.PROMPT);
    }

    public R1ZeroTemplate(String questionColumn) {
        this.column = questionColumn;
    }

    /** The template applied to a question string. */
    public static String apply(String question) {
        return PREFIX + question + SUFFIX;
    }

    @Override
    public String render(Example example) {
        return apply(example.getString(column));
    }

    /** As one user message: the R1-Zero template is plain text, not a chat format. */
    @Override
    public List<ChatMessage> messages(Example example) {
        return List.of(ChatMessage.user(render(example)));
    }

    @Override
    public String assistantSeparator() {
        return " ";
    }

    @Override
    public String toString() {
        return "R1ZeroTemplate[" + column + "]";
    }
}

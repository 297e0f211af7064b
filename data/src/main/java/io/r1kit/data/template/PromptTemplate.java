package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.Example;
import java.util.List;

/**
 * Turns an example into the text the policy continues. {@link #render} is everything up to where the
 * model starts generating (the start of the assistant turn, including any prefill).
 */
public interface PromptTemplate {
    /** The R1 prefill: the assistant turn starts already thinking. */
    String THINK_PREFILL = "<think>\n";

    String render(Example example);

    /**
     * The conversation this prompt stands for (system prompt if any, then the user turn), for models
     * that render prompts through their own chat template.
     */
    List<ChatMessage> messages(Example example);

    /**
     * Text between the end of {@link #render} and the first character of the assistant's reply:
     * {@code " "} for the R1-Zero template ("... Assistant: &lt;think&gt;"), empty for most others.
     */
    default String assistantSeparator() {
        return "";
    }

    /** This template with {@code prefill} added as the start of the assistant turn. */
    default PromptTemplate withPrefill(String prefill) {
        return new PrefilledTemplate(this, prefill);
    }

    /** This template with {@link #THINK_PREFILL} as the start of the assistant turn. */
    default PromptTemplate withThinkPrefill() {
        return withPrefill(THINK_PREFILL);
    }
}

package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.Example;
import java.util.List;
import java.util.Objects;

/**
 * A template whose assistant turn starts with fixed text (e.g. {@code "<think>\n"}), so the model's
 * completion continues it. Rewards that check the format must see {@link #prefill()} + completion.
 */
public record PrefilledTemplate(PromptTemplate base, String prefill) implements PromptTemplate {
    public PrefilledTemplate {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(prefill, "prefill");
    }

    @Override
    public String render(Example example) {
        return base.render(example) + base.assistantSeparator() + prefill;
    }

    @Override
    public List<ChatMessage> messages(Example example) {
        return base.messages(example);
    }
}

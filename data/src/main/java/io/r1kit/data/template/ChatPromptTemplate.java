package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.Example;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Renders prompts through a model's chat template. For a chat-format example (a {@code messages}
 * column) the conversation is its messages up to, not including, a final assistant turn; for any other
 * example it is {@code content.messages(example)} (system prompt and user turn from a plain template).
 * A {@code systemPrompt} here is put first when the conversation has no system message.
 */
public final class ChatPromptTemplate implements PromptTemplate {
    private final ChatTemplateRenderer renderer;
    private final PromptTemplate content;
    private final String systemPrompt;

    public ChatPromptTemplate(ChatTemplateRenderer renderer, PromptTemplate content, String systemPrompt) {
        this.renderer = Objects.requireNonNull(renderer, "renderer");
        this.content = Objects.requireNonNull(content, "content");
        this.systemPrompt = systemPrompt == null || systemPrompt.isEmpty() ? null : systemPrompt;
    }

    @Override
    public String render(Example example) {
        return renderer.render(messages(example), true);
    }

    @Override
    public List<ChatMessage> messages(Example example) {
        List<ChatMessage> conv;
        if (example.isChat()) {
            conv = new ArrayList<>(example.messages());
            if (!conv.isEmpty() && conv.getLast().role().equals(ChatMessage.ASSISTANT)) conv.removeLast();
        } else {
            conv = new ArrayList<>(content.messages(example));
        }
        if (systemPrompt != null && (conv.isEmpty() || !conv.getFirst().role().equals(ChatMessage.SYSTEM))) {
            conv.addFirst(ChatMessage.system(systemPrompt));
        }
        return conv;
    }
}

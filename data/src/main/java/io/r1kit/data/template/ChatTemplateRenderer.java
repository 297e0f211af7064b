package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import java.util.List;

/**
 * A model's own chat template (the Jinja {@code chat_template} of its {@code tokenizer_config.json}).
 * The model module implements it; the data module only calls it.
 */
@FunctionalInterface
public interface ChatTemplateRenderer {
    /**
     * Renders a conversation. With {@code addGenerationPrompt} the result ends with the opening of an
     * assistant turn (what {@code add_generation_prompt=True} does in Hugging Face).
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);
}

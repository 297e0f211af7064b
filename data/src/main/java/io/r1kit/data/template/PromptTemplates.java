package io.r1kit.data.template;

import io.r1kit.data.DatasetException;
import io.r1kit.data.ChatMessage;
import io.r1kit.data.Example;
import java.util.List;

/** Named templates, as configs and the command line refer to them. */
public final class PromptTemplates {
    /**
     * The short template of the toy universe: the R1-Zero idea (user turn, then the assistant reasons in
     * {@code <think>} and answers in {@code <answer>}) in 22 characters of overhead instead of ~400, so
     * that a tiny character-level model with a 256-character context has room to think.
     */
    public static final String TOY = "user: {prompt}\nassistant:";

    /** Names accepted by {@link #byName}. */
    public static final List<String> NAMES = List.of("r1-zero", "toy", "plain");

    private PromptTemplates() {}

    /**
     * {@code r1-zero} (the paper's, verbatim), {@code toy} ({@value #TOY}), {@code plain} (the question
     * alone); any other text containing a {@code {column}} placeholder is used as a {@link ColumnTemplate}.
     */
    public static PromptTemplate byName(String nameOrTemplate) {
        return switch (nameOrTemplate) {
            case "r1-zero", "r1zero" -> new R1ZeroTemplate();
            case "toy" -> new ToyTemplate();
            case "plain" -> new ColumnTemplate("{prompt}");
            default -> {
                ColumnTemplate t = new ColumnTemplate(nameOrTemplate);
                if (t.columns().isEmpty()) {
                    throw new DatasetException("unknown template '" + nameOrTemplate + "': expected one of " + NAMES
                            + " or a template text with a {column} placeholder");
                }
                yield t;
            }
        };
    }

    /**
     * A template as configs give it: a name or template text, an optional system prompt (only for
     * {@code plain} and {@code {column}} templates: the R1-Zero and toy templates are complete prompts),
     * and whether the assistant turn is prefilled with {@link PromptTemplate#THINK_PREFILL}.
     */
    public static PromptTemplate of(String nameOrTemplate, String systemPrompt, boolean thinkPrefill) {
        PromptTemplate t = byName(nameOrTemplate);
        if (systemPrompt != null && !systemPrompt.isEmpty()) {
            if (!(t instanceof ColumnTemplate c)) {
                throw new DatasetException("template '" + nameOrTemplate + "' takes no system prompt; use 'plain' or a "
                        + "{column} template with a system prompt");
            }
            t = new ColumnTemplate(c.template(), systemPrompt);
        }
        return thinkPrefill ? t.withThinkPrefill() : t;
    }

    /** {@link #TOY}: the assistant's reply follows "assistant:" after a space, like R1-Zero's. */
    static final class ToyTemplate implements PromptTemplate {
        private final ColumnTemplate inner = new ColumnTemplate(TOY);

        @Override
        public String render(Example example) {
            return inner.render(example);
        }

        @Override
        public List<ChatMessage> messages(Example example) {
            return List.of(ChatMessage.user(example.getString("prompt")));
        }

        @Override
        public String assistantSeparator() {
            return " ";
        }

        @Override
        public String toString() {
            return "toy";
        }
    }
}

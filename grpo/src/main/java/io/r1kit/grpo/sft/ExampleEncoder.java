package io.r1kit.grpo.sft;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.ChatTemplateRenderer;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.model.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;

/**
 * Renders and tokenizes SFT / pretraining examples. Each example is read in the first of these
 * shapes that applies:
 * <ol>
 *   <li><b>raw text</b> — when {@code completion_only_loss} is false and the example has the
 *       {@code text_column}: the document, loss on every token (causal-LM pretraining);</li>
 *   <li><b>chat</b> — a {@code messages} column whose last turn is the assistant's: the prompt is the
 *       conversation before it, the completion is that turn. With a chat template (the model's,
 *       given to the trainer) the prompt is {@code render(messages[:-1], addGenerationPrompt=true)} and
 *       the completion is the rest of {@code render(messages, false)} (end-of-turn tokens included);
 *       without one each earlier turn is written {@code "role: content\n"}, the prompt ends with
 *       {@code "assistant:"} and the completion is {@code " " + content}, the toy template's shape;</li>
 *   <li><b>prompt/completion</b> — a {@code completion_column}: the prompt is
 *       {@code template.render(example)} (exactly what rollouts and evaluation feed the model) and the
 *       completion is {@code template.assistantSeparator() + completion} (e.g. the space after
 *       {@code "assistant:"} of the toy and R1-Zero templates);</li>
 *   <li><b>raw text</b> — otherwise the {@code text_column}.</li>
 * </ol>
 * With {@code completion_only_loss} (default) the prompt tokens of shapes 2 and 3 get no loss;
 * without it every token but the first does. The prompt is tokenized with {@code add_special_tokens}
 * (a BOS for Llama-style and char tokenizers) and the completion without, then EOS is appended
 * ({@code append_eos}) unless the completion already ends with it. Examples longer than
 * {@code max_seq_length} are cut on the right; an example left with no loss token (its prompt fills
 * the whole length) is skipped and counted.
 */
public final class ExampleEncoder {
    private final Tokenizer tokenizer;
    private final PromptTemplate template;
    private final ChatTemplateRenderer chatTemplate;
    private final SftConfig config;

    /** What {@link #encodeAll} produced. */
    public record Encoded(List<EncodedExample> examples, int skippedNoLossTokens, int truncated) {}

    public ExampleEncoder(Tokenizer tokenizer, PromptTemplate template, ChatTemplateRenderer chatTemplate, SftConfig config) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.chatTemplate = chatTemplate;
        this.config = config;
    }

    /** Encodes every example; examples without any loss token after truncation are skipped (counted). */
    public Encoded encodeAll(Dataset data) {
        List<EncodedExample> out = new ArrayList<>(data.size());
        int skipped = 0, truncated = 0;
        for (Example e : data) {
            int[] full = fullIds(e);
            int ctx = full[full.length - 1];   // the context length rides in the last slot (see fullIds)
            int[] ids = Arrays.copyOf(full, full.length - 1);
            if (ids.length > config.maxSeqLength()) {
                ids = Arrays.copyOf(ids, config.maxSeqLength());
                truncated++;
            }
            if (ctx >= ids.length) {
                skipped++;
                continue;
            }
            out.add(new EncodedExample(e.id(), ids, ctx));
        }
        return new Encoded(out, skipped, truncated);
    }

    /** One example, or an error naming it when it has no loss token within max_seq_length. */
    public EncodedExample encode(Example e) {
        Encoded r = encodeAll(new Dataset(List.of(e)));
        if (r.examples().isEmpty())
            throw new DatasetException("example '" + e.id() + "': its prompt fills max_seq_length (" + config.maxSeqLength()
                    + " tokens), nothing is left to train on");
        return r.examples().get(0);
    }

    /** ids of the whole example, untruncated, with the context length appended as one extra last entry. */
    private int[] fullIds(Example e) {
        boolean completionOnly = config.completionOnlyLoss();
        if (!completionOnly && e.has(config.textColumn())) return text(e);
        if (e.isChat()) {
            List<ChatMessage> msgs = e.messages();
            ChatMessage last = msgs.get(msgs.size() - 1);
            if (!last.role().equals(ChatMessage.ASSISTANT))
                throw new DatasetException("example '" + e.id() + "': the last message must be the assistant's reply to train on, got role '"
                        + last.role() + "'");
            List<ChatMessage> before = msgs.subList(0, msgs.size() - 1);
            String prompt, completion;
            if (chatTemplate != null) {
                prompt = chatTemplate.render(before, true);
                String full = chatTemplate.render(msgs, false);
                if (!full.startsWith(prompt))
                    throw new DatasetException("example '" + e.id() + "': the chat template renders the conversation without the reply "
                            + "as a text that is not a prefix of the whole conversation; cannot tell prompt from completion");
                completion = full.substring(prompt.length());
            } else {
                StringBuilder sb = new StringBuilder();
                for (ChatMessage m : before) sb.append(m.role()).append(": ").append(m.content()).append('\n');
                prompt = sb.append("assistant:").toString();
                completion = " " + last.content();
            }
            return join(e, prompt, completion, completionOnly);
        }
        if (e.has(config.completionColumn())) {
            // the separator belongs to the completion: generation prompts are template.render(e) alone
            // (as Rollouts builds them), so the model must learn to produce it
            return join(e, template.render(e), template.assistantSeparator() + e.getString(config.completionColumn()), completionOnly);
        }
        if (e.has(config.textColumn())) return text(e);
        throw new DatasetException("example '" + e.id() + "' has none of the columns SFT reads: '" + config.textColumn() + "' (raw text), '"
                + config.completionColumn() + "' (with a prompt), or 'messages'; it has " + e.columns().keySet()
                + " (set text_column / completion_column to map yours)");
    }

    private int[] text(Example e) {
        int[] ids = tokenizer.encode(e.getString(config.textColumn()), config.addSpecialTokens());
        ids = withEos(ids);
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = 1;
        return out;
    }

    private int[] join(Example e, String prompt, String completion, boolean completionOnly) {
        int[] p = tokenizer.encode(prompt, config.addSpecialTokens());
        int[] c = withEos(tokenizer.encode(completion, false));
        if (p.length == 0)
            throw new DatasetException("example '" + e.id() + "': the prompt tokenizes to nothing (the first completion token needs a context)");
        int[] out = new int[p.length + c.length + 1];
        System.arraycopy(p, 0, out, 0, p.length);
        System.arraycopy(c, 0, out, p.length, c.length);
        out[out.length - 1] = completionOnly ? p.length : 1;
        return out;
    }

    private int[] withEos(int[] ids) {
        OptionalInt eos = tokenizer.eosId();
        if (!config.appendEos() || eos.isEmpty() || (ids.length > 0 && ids[ids.length - 1] == eos.getAsInt())) return ids;
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = eos.getAsInt();
        return out;
    }
}

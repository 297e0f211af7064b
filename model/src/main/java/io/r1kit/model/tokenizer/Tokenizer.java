package io.r1kit.model.tokenizer;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Text to token ids and back. Implementations are thread-safe: many threads may encode and decode
 * concurrently (rollout workers share one tokenizer).
 */
public interface Tokenizer extends AutoCloseable {

    /**
     * Encodes text. Special-token strings in the text (e.g. {@code <|im_end|>}) become their
     * single ids. {@code addSpecialTokens} adds what the tokenizer adds around a sequence (a BOS
     * for Llama/DeepSeek-style tokenizers, nothing for Qwen); chat-templated text usually already
     * contains them and is encoded with {@code false}.
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** Encodes without adding special tokens. */
    default int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * Decodes ids; {@code skipSpecialTokens} drops tokens marked special (pad, bos, eos, ...). Ids
     * at or past {@link #vocabSize()} (a model's embedding is often padded beyond the tokenizer, e.g.
     * Qwen3: 151936 rows, 151669 tokens) decode to nothing, as in transformers; a negative id is an error.
     */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** Number of ids (largest id + 1), including added tokens. May be less than the model's embedding rows. */
    int vocabSize();

    OptionalInt bosId();

    /** The primary end-of-sequence id (tokenizer_config's eos_token). */
    OptionalInt eosId();

    OptionalInt padId();

    /** Every id that ends generation: eos_token plus generation_config's eos_token_id(s). */
    Set<Integer> eosIds();

    OptionalInt tokenToId(String token);

    /** The vocabulary string of an id (byte-level BPE tokens look like {@code Ġworld}). */
    Optional<String> idToToken(int id);

    /** Special tokens (pad, bos, eos, role markers...), in id order. */
    List<String> specialTokens();

    /** True when the id is one of {@link #specialTokens()}. */
    boolean isSpecial(int id);

    /** The model's chat template, when the tokenizer config has one. */
    default Optional<ChatTemplate> chatTemplate() {
        return Optional.empty();
    }

    @Override
    default void close() {}
}

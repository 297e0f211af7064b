package io.r1kit.model.tokenizer;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.hf.HfJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * A character-level tokenizer for the generated toy tasks: one id per Unicode code point, plus
 * special tokens and, optionally, the reasoning tags as single tokens.
 *
 * <p>Ids: 0 {@code <|pad|>}, 1 {@code <|bos|>}, 2 {@code <|eos|>}, 3 {@code <|unk|>}, then the tags
 * (e.g. {@code <think>}), then the characters. A tag in the text becomes its single id (leftmost,
 * longest match first, as the Hugging Face added-token matcher does); a character outside the
 * alphabet becomes {@code <|unk|>}. With {@code addSpecialTokens} a BOS is prepended.
 *
 * <p>{@link #save} writes a real {@code tokenizer.json} (WordLevel model, a {@code Split}
 * pre-tokenizer isolating every code point, a BOS template post-processor and a {@code Fuse}
 * decoder) and {@code tokenizer_config.json}, so a model directory with a character tokenizer loads
 * through {@link HfTokenizer} like any other, with identical ids (tested).
 */
public final class CharTokenizer implements Tokenizer {

    public static final String PAD = "<|pad|>";
    public static final String BOS = "<|bos|>";
    public static final String EOS = "<|eos|>";
    public static final String UNK = "<|unk|>";
    /** The tags R1-style prompts use; pass them to make each a single token. */
    public static final List<String> REASONING_TAGS = List.of("<think>", "</think>", "<answer>", "</answer>");

    private static final List<String> SPECIALS = List.of(PAD, BOS, EOS, UNK);
    private static final int PAD_ID = 0, BOS_ID = 1, EOS_ID = 2, UNK_ID = 3;

    private final List<String> tags;
    private final String[] vocab;              // id -> token
    private final Map<String, Integer> tokenIds; // token -> id (specials, tags, characters)
    private final Map<Integer, Integer> charIds; // code point -> id

    private CharTokenizer(List<String> tags, List<Integer> codePoints) {
        this.tags = List.copyOf(tags);
        List<String> v = new ArrayList<>(SPECIALS);
        for (String t : tags) {
            if (t.isEmpty()) throw new IllegalArgumentException("empty tag");
            if (v.contains(t)) throw new IllegalArgumentException("duplicate tag or reserved token: " + t);
            v.add(t);
        }
        Map<Integer, Integer> chars = new HashMap<>();
        for (int cp : codePoints) {
            chars.put(cp, v.size());
            v.add(new String(Character.toChars(cp)));
        }
        this.vocab = v.toArray(new String[0]);
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < vocab.length; i++) ids.putIfAbsent(vocab[i], i); // a tag never collides: tags have >1 char
        this.tokenIds = Collections.unmodifiableMap(ids);
        this.charIds = Collections.unmodifiableMap(chars);
    }

    /** A tokenizer over the code points of {@code alphabet}, in order of first appearance. */
    public static CharTokenizer fromAlphabet(String alphabet, List<String> tags) {
        LinkedHashSet<Integer> cps = new LinkedHashSet<>();
        alphabet.codePoints().forEach(cps::add);
        for (String t : tags) {
            if (t.codePointCount(0, t.length()) < 2) throw new IllegalArgumentException("tag '" + t + "' must be longer than one character");
        }
        return new CharTokenizer(tags, new ArrayList<>(cps));
    }

    /** A tokenizer over every code point in the corpus (tags removed first), sorted by code point. */
    public static CharTokenizer fromCorpus(Iterable<String> texts, List<String> tags) {
        TreeSet<Integer> cps = new TreeSet<>();
        for (String text : texts) {
            String t = text;
            for (String tag : tags) t = t.replace(tag, "");
            t.codePoints().forEach(cps::add);
        }
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) sb.appendCodePoint(cp);
        return fromAlphabet(sb.toString(), tags);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        int[] out = new int[text.length() + 1];
        int n = 0;
        if (addSpecialTokens) out[n++] = BOS_ID;
        int i = 0;
        while (i < text.length()) {
            // Added tokens (specials and tags, ids 0..k-1) first: leftmost, longest match, like the HF matcher.
            int best = -1, bestLen = 0;
            if (text.charAt(i) == '<' || !tags.isEmpty()) {
                for (int a = 0; a < SPECIALS.size() + tags.size(); a++) {
                    String tok = vocab[a];
                    if (tok.length() > bestLen && text.startsWith(tok, i)) {
                        best = a;
                        bestLen = tok.length();
                    }
                }
            }
            if (best >= 0) {
                out[n++] = best;
                i += bestLen;
                continue;
            }
            int cp = text.codePointAt(i);
            out[n++] = charIds.getOrDefault(cp, UNK_ID);
            i += Character.charCount(cp);
        }
        return java.util.Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0) throw new IllegalArgumentException("negative token id " + id + " at position " + i);
            if (id >= vocab.length) continue; // embedding rows past the vocabulary decode to nothing, as in HfTokenizer
            if (skipSpecialTokens && id < SPECIALS.size()) continue;
            sb.append(vocab[id]);
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return vocab.length;
    }

    @Override
    public OptionalInt bosId() {
        return OptionalInt.of(BOS_ID);
    }

    @Override
    public OptionalInt eosId() {
        return OptionalInt.of(EOS_ID);
    }

    @Override
    public OptionalInt padId() {
        return OptionalInt.of(PAD_ID);
    }

    @Override
    public Set<Integer> eosIds() {
        return Set.of(EOS_ID);
    }

    @Override
    public OptionalInt tokenToId(String token) {
        Integer id = tokenIds.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Optional<String> idToToken(int id) {
        return id < 0 || id >= vocab.length ? Optional.empty() : Optional.of(vocab[id]);
    }

    @Override
    public List<String> specialTokens() {
        return SPECIALS;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && id < SPECIALS.size();
    }

    /** The tags that are single tokens. */
    public List<String> tags() {
        return tags;
    }

    /** The id of the unknown-character token. */
    public int unkId() {
        return UNK_ID;
    }

    // ------------------------------------------------------------------ Hugging Face files

    /** tokenizer.json text describing exactly this tokenizer. */
    public String tokenizerJson() {
        ObjectNode root = HfJson.WRITER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.size() + tags.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", vocab[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", i < SPECIALS.size()); // tags are not special: skip_special_tokens keeps them
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Split");
        pre.putObject("pattern").put("Regex", "[\\s\\S]"); // any single code point, newlines included
        pre.put("behavior", "Isolated");
        pre.put("invert", false);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", BOS).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject(BOS);
        st.put("id", BOS);
        st.putArray("ids").add(BOS_ID);
        st.putArray("tokens").add(BOS);
        root.putObject("decoder").put("type", "Fuse"); // concatenate tokens (no spaces between them)
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.length; i++) v.put(vocab[i], i);
        model.put("unk_token", UNK);
        return pretty(root);
    }

    /** tokenizer_config.json text: the special tokens, loadable by transformers' PreTrainedTokenizerFast. */
    public String tokenizerConfigJson() {
        return tokenizerConfigJson(null);
    }

    /** tokenizer_config.json text with a {@code chat_template} (null for none). */
    public String tokenizerConfigJson(String chatTemplate) {
        ObjectNode root = HfJson.WRITER.createObjectNode();
        ObjectNode dec = root.putObject("added_tokens_decoder");
        for (int i = 0; i < SPECIALS.size() + tags.size(); i++) {
            ObjectNode a = dec.putObject(Integer.toString(i));
            a.put("content", vocab[i]);
            a.put("lstrip", false);
            a.put("normalized", false);
            a.put("rstrip", false);
            a.put("single_word", false);
            a.put("special", i < SPECIALS.size());
        }
        root.put("bos_token", BOS);
        root.put("eos_token", EOS);
        root.put("pad_token", PAD);
        root.put("unk_token", UNK);
        root.put("clean_up_tokenization_spaces", false);
        root.put("model_max_length", 1_000_000);
        root.put("tokenizer_class", "PreTrainedTokenizerFast");
        if (chatTemplate != null) root.put("chat_template", chatTemplate);
        return pretty(root);
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir} (created if needed). */
    public void save(Path dir) throws IOException {
        save(dir, null);
    }

    /** Writes tokenizer.json and a tokenizer_config.json carrying {@code chatTemplate} (null for none). */
    public void save(Path dir, String chatTemplate) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfigJson(chatTemplate), StandardCharsets.UTF_8);
    }

    private static String pretty(ObjectNode node) {
        try {
            return HfJson.WRITER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.r1kit.model.tokenizer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.HfGenerationConfig;
import io.r1kit.model.hf.HfJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust tokenizers library through DJL's JNI
 * binding ({@link NativeTokenizer}), offline. Truncation and padding are off (DJL's wrapper would
 * truncate to 512 by default): r1kit encodes whole texts and decides itself where special tokens go.
 *
 * <p>The vocabulary (for {@link #tokenToId}/{@link #idToToken}) is read from the same
 * tokenizer.json; bos/eos/pad, {@code add_bos_token} and the chat template come from
 * {@code tokenizer_config.json}; extra stop ids from {@code generation_config.json}. Both are
 * optional.
 *
 * <p>When the tokenizer.json post-processor adds nothing itself but the config says
 * {@code add_bos_token} (DeepSeek/Llama-2 style), {@code encode(text, true)} prepends BOS, which is
 * what transformers' fast Llama tokenizer does.
 */
public final class HfTokenizer implements Tokenizer {

    private final Path source;
    private final NativeTokenizer djl;
    private final HfTokenizerConfig config;
    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final BitSet special;
    private final List<String> specialTokens;
    private final Integer bos, eos, pad;
    private final Set<Integer> eosIds;
    private final boolean prependBos, appendEos;
    private final ChatTemplate chatTemplate;

    private HfTokenizer(Path source, NativeTokenizer djl, HfTokenizerConfig config, String[] idToToken,
                        Map<String, Integer> tokenToId, BitSet special, HfGenerationConfig gen) throws IOException {
        this.source = source;
        this.djl = djl;
        this.config = config;
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.bos = lookup(config.bosToken(), "bos_token");
        this.eos = lookup(config.eosToken(), "eos_token");
        this.pad = lookup(config.padToken(), "pad_token");
        BitSet sp = (BitSet) special.clone();
        for (String t : config.additionalSpecialTokens()) sp.set(lookup(t, "additional_special_tokens"));
        for (Integer id : new Integer[] {bos, eos, pad}) if (id != null) sp.set(id);
        this.special = sp;
        List<String> names = new ArrayList<>();
        for (int i = sp.nextSetBit(0); i >= 0; i = sp.nextSetBit(i + 1)) names.add(idToToken[i]);
        this.specialTokens = List.copyOf(names);
        Set<Integer> stops = new LinkedHashSet<>();
        if (eos != null) stops.add(eos);
        if (gen != null) {
            for (int id : gen.eosTokenIds()) {
                if (id < 0 || id >= idToToken.length) {
                    throw new CheckpointException(source, "eos_token_id", "generation_config lists id " + id
                            + " outside the vocabulary (size " + idToToken.length + ")");
                }
                stops.add(id);
            }
        }
        this.eosIds = Collections.unmodifiableSet(stops);
        // Does the tokenizer.json post-processor already add specials? Then the config flags were folded into it.
        boolean postProcessorAdds = djl.encode("", true).length > 0;
        this.prependBos = !postProcessorAdds && config.addBosToken() && bos != null;
        this.appendEos = !postProcessorAdds && config.addEosToken() && eos != null;
        this.chatTemplate = config.chatTemplate() == null ? null
                : ChatTemplate.of(config.chatTemplate(), specialTokenVariables(config));
    }

    private static Map<String, String> specialTokenVariables(HfTokenizerConfig c) {
        Map<String, String> m = new HashMap<>();
        m.put("bos_token", c.bosToken() == null ? "" : c.bosToken());
        m.put("eos_token", c.eosToken() == null ? "" : c.eosToken());
        if (c.padToken() != null) m.put("pad_token", c.padToken());
        if (c.unkToken() != null) m.put("unk_token", c.unkToken());
        return m;
    }

    private Integer lookup(String token, String key) throws CheckpointException {
        if (token == null) return null;
        Integer id = tokenToId.get(token);
        if (id == null) {
            throw new CheckpointException(source.resolveSibling("tokenizer_config.json"), key,
                    "token '" + token + "' is not in the vocabulary of " + source);
        }
        return id;
    }

    /**
     * Loads a tokenizer from a model directory (tokenizer.json plus optional tokenizer_config.json
     * and generation_config.json) or from a tokenizer.json path (its siblings are read the same way).
     */
    public static HfTokenizer load(Path dirOrFile) throws IOException {
        Path json = Files.isDirectory(dirOrFile) ? dirOrFile.resolve("tokenizer.json") : dirOrFile;
        if (!Files.isRegularFile(json)) throw new CheckpointException(json, null, "tokenizer.json not found");
        Path cfgFile = json.resolveSibling("tokenizer_config.json");
        HfTokenizerConfig cfg = Files.isRegularFile(cfgFile) ? HfTokenizerConfig.read(cfgFile) : HfTokenizerConfig.empty();
        Path genFile = json.resolveSibling("generation_config.json");
        HfGenerationConfig gen = Files.isRegularFile(genFile) ? HfGenerationConfig.read(genFile) : null;
        return load(json, cfg, gen);
    }

    /** Loads tokenizer.json with an explicit config (e.g. a tokenizer built in memory). */
    public static HfTokenizer load(Path tokenizerJson, HfTokenizerConfig config, HfGenerationConfig gen) throws IOException {
        byte[] bytes = Files.readAllBytes(tokenizerJson);
        Map<String, Integer> t2i = new HashMap<>();
        BitSet special = new BitSet();
        int maxId = readVocab(bytes, tokenizerJson, t2i, special);
        String[] i2t = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : t2i.entrySet()) i2t[e.getValue()] = e.getKey();
        NativeTokenizer djl;
        try {
            // No truncation or padding, whatever the file says: r1kit encodes whole texts.
            djl = NativeTokenizer.fromJson(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new CheckpointException(tokenizerJson, null, "the tokenizers library rejected this file: " + e.getMessage(), e);
        }
        try {
            return new HfTokenizer(tokenizerJson, djl, config, i2t, Collections.unmodifiableMap(t2i), special, gen);
        } catch (IOException | RuntimeException e) {
            djl.close();
            throw e;
        }
    }

    /**
     * Fills token->id from model.vocab and added_tokens; returns the largest id. Streams the JSON and
     * skips everything else (the BPE merges are most of a large tokenizer.json and are not needed here).
     */
    private static int readVocab(byte[] json, Path file, Map<String, Integer> t2i, BitSet special) throws CheckpointException {
        int[] maxId = {-1};
        boolean sawVocab = false;
        try (JsonParser p = HfJson.STRICT.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new CheckpointException(file, null, "tokenizer.json must be a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("model") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String mf = p.currentName();
                        JsonToken mt = p.nextToken();
                        if (mf.equals("vocab")) {
                            sawVocab = true;
                            readModelVocab(p, mt, file, t2i, maxId);
                        } else {
                            p.skipChildren();
                        }
                    }
                } else if (field.equals("added_tokens") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        Integer id = null;
                        String content = null;
                        boolean isSpecial = false;
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String af = p.currentName();
                            JsonToken at = p.nextToken();
                            switch (af) {
                                case "id" -> id = at == JsonToken.VALUE_NUMBER_INT && p.getLongValue() >= 0 && p.getLongValue() <= Integer.MAX_VALUE
                                        ? p.getIntValue() : null;
                                case "content" -> content = at == JsonToken.VALUE_STRING ? p.getText() : null;
                                case "special" -> isSpecial = at == JsonToken.VALUE_TRUE;
                                default -> p.skipChildren();
                            }
                        }
                        if (id == null || content == null) {
                            throw new CheckpointException(file, "added_tokens", "every entry needs a non-negative integer 'id' and a string 'content'");
                        }
                        t2i.put(content, id);
                        maxId[0] = Math.max(maxId[0], id);
                        if (isSpecial) special.set(id);
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            String msg = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw new CheckpointException(file, null, "not valid JSON: " + msg, e);
        }
        if (!sawVocab) throw new CheckpointException(file, "model.vocab", "missing");
        if (maxId[0] < 0) throw new CheckpointException(file, "model.vocab", "vocabulary is empty");
        return maxId[0];
    }

    private static void readModelVocab(JsonParser p, JsonToken t, Path file, Map<String, Integer> t2i, int[] maxId) throws IOException {
        if (t == JsonToken.START_OBJECT) { // BPE, WordLevel, WordPiece: {"token": id}
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0 || p.getLongValue() > Integer.MAX_VALUE) {
                    throw new CheckpointException(file, "model.vocab." + token, "id must be a non-negative integer");
                }
                int id = p.getIntValue();
                t2i.put(token, id);
                maxId[0] = Math.max(maxId[0], id);
            }
        } else if (t == JsonToken.START_ARRAY) { // Unigram: [[piece, score], ...], id = position
            int i = 0;
            while (p.nextToken() == JsonToken.START_ARRAY) {
                if (p.nextToken() != JsonToken.VALUE_STRING) throw new CheckpointException(file, "model.vocab[" + i + "]", "expected [piece, score]");
                t2i.putIfAbsent(p.getText(), i);
                while (p.nextToken() != JsonToken.END_ARRAY) p.skipChildren();
                maxId[0] = Math.max(maxId[0], i++);
            }
        } else {
            throw new CheckpointException(file, "model.vocab", "expected an object or a list");
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        long[] ids = djl.encode(text, addSpecialTokens);
        int extra = (addSpecialTokens && prependBos ? 1 : 0) + (addSpecialTokens && appendEos ? 1 : 0);
        int[] out = new int[ids.length + extra];
        int o = 0;
        if (addSpecialTokens && prependBos) out[o++] = bos;
        for (long id : ids) out[o++] = (int) id;
        if (addSpecialTokens && appendEos) out[o] = eos;
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] l = new long[ids.length];
        int n = 0;
        for (int i = 0; i < ids.length; i++) {
            int id = ids[i];
            if (id < 0) throw new IllegalArgumentException("negative token id " + id + " at position " + i);
            // Ids the tokenizer does not know (embedding rows past vocabSize()) decode to nothing, as in transformers.
            if (id < idToToken.length && idToToken[id] != null) l[n++] = id;
        }
        return djl.decode(n == l.length ? l : Arrays.copyOf(l, n), skipSpecialTokens);
    }

    @Override
    public int vocabSize() {
        return idToToken.length;
    }

    @Override
    public OptionalInt bosId() {
        return bos == null ? OptionalInt.empty() : OptionalInt.of(bos);
    }

    @Override
    public OptionalInt eosId() {
        return eos == null ? OptionalInt.empty() : OptionalInt.of(eos);
    }

    @Override
    public OptionalInt padId() {
        return pad == null ? OptionalInt.empty() : OptionalInt.of(pad);
    }

    @Override
    public Set<Integer> eosIds() {
        return eosIds;
    }

    @Override
    public OptionalInt tokenToId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public Optional<String> idToToken(int id) {
        return id < 0 || id >= idToToken.length ? Optional.empty() : Optional.ofNullable(idToToken[id]);
    }

    @Override
    public List<String> specialTokens() {
        return specialTokens;
    }

    @Override
    public boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    @Override
    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** The parsed tokenizer_config.json (empty when there was none). */
    public HfTokenizerConfig config() {
        return config;
    }

    /** The tokenizer.json this was loaded from. */
    public Path source() {
        return source;
    }

    @Override
    public void close() {
        djl.close();
    }

    @Override
    public String toString() {
        return "HfTokenizer[" + source + ", vocab " + idToToken.length + ", " + specialTokens.size() + " special tokens]";
    }
}

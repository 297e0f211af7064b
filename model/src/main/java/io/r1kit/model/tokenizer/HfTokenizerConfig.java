package io.r1kit.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.HfJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of {@code tokenizer_config.json} r1kit needs. Token fields may be a string, an
 * AddedToken object ({@code {"content": ...}}) or null, as transformers writes them.
 *
 * @param bosToken                beginning-of-sequence token string, or null
 * @param eosToken                end-of-sequence token string, or null
 * @param padToken                padding token string, or null
 * @param unkToken                unknown token string, or null
 * @param addBosToken             prepend BOS when encoding with special tokens (Llama/DeepSeek tokenizers)
 * @param addEosToken             append EOS when encoding with special tokens
 * @param additionalSpecialTokens extra special tokens listed by the config
 * @param chatTemplate            Jinja chat template source, or null
 * @param modelMaxLength          {@code model_max_length}, or 0 when absent
 */
public record HfTokenizerConfig(String bosToken, String eosToken, String padToken, String unkToken,
                                boolean addBosToken, boolean addEosToken, List<String> additionalSpecialTokens,
                                String chatTemplate, long modelMaxLength) {

    public HfTokenizerConfig {
        additionalSpecialTokens = List.copyOf(additionalSpecialTokens);
    }

    /** An empty config (no tokenizer_config.json). */
    public static HfTokenizerConfig empty() {
        return new HfTokenizerConfig(null, null, null, null, false, false, List.of(), null, 0);
    }

    /** Reads tokenizer_config.json; a {@code chat_template.jinja} next to it is used when the config has no template. */
    public static HfTokenizerConfig read(Path file) throws IOException {
        JsonNode root = HfJson.read(file);
        if (!root.isObject()) throw new CheckpointException(file, null, "tokenizer config must be a JSON object");
        List<String> extra = new ArrayList<>();
        JsonNode ast = root.get("additional_special_tokens");
        if (ast != null && !ast.isNull()) {
            if (!ast.isArray()) throw new CheckpointException(file, "additional_special_tokens", "must be a list");
            for (JsonNode t : ast) extra.add(tokenString(t, file, "additional_special_tokens"));
        }
        String template = chatTemplate(root.get("chat_template"), file);
        if (template == null) {
            Path jinja = file.resolveSibling("chat_template.jinja");
            if (Files.isRegularFile(jinja)) template = Files.readString(jinja);
        }
        JsonNode mml = root.get("model_max_length");
        long maxLen = mml != null && mml.isNumber() ? (long) Math.min(Long.MAX_VALUE, mml.asDouble()) : 0;
        return new HfTokenizerConfig(
                tokenString(root.get("bos_token"), file, "bos_token"),
                tokenString(root.get("eos_token"), file, "eos_token"),
                tokenString(root.get("pad_token"), file, "pad_token"),
                tokenString(root.get("unk_token"), file, "unk_token"),
                bool(root, "add_bos_token", file),
                bool(root, "add_eos_token", file),
                extra, template, maxLen);
    }

    private static boolean bool(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw new CheckpointException(file, key, "expected true or false, got " + v);
        return v.booleanValue();
    }

    static String tokenString(JsonNode v, Path file, String key) throws CheckpointException {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.textValue();
        if (v.isObject() && v.get("content") != null && v.get("content").isTextual()) return v.get("content").textValue();
        throw new CheckpointException(file, key, "expected a token string or an object with 'content', got " + v);
    }

    private static String chatTemplate(JsonNode v, Path file) throws CheckpointException {
        if (v == null || v.isNull()) return null;
        if (v.isTextual()) return v.textValue();
        if (v.isArray()) {
            // Several named templates: [{"name": "default", "template": ...}, {"name": "tool_use", ...}].
            for (JsonNode t : v) {
                if ("default".equals(t.path("name").asText()) && t.path("template").isTextual()) return t.get("template").textValue();
            }
            throw new CheckpointException(file, "chat_template", "list of templates has no entry named 'default'");
        }
        throw new CheckpointException(file, "chat_template", "expected a string or a list of named templates");
    }
}

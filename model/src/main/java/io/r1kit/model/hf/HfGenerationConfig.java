package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The parts of {@code generation_config.json} r1kit uses: stop ids and the default sampling
 * settings. {@code raw} keeps the whole document so it can be written back unchanged.
 */
public record HfGenerationConfig(Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId,
                                 Boolean doSample, Double temperature, Double topP, Integer topK,
                                 Integer maxNewTokens, JsonNode raw) {

    public HfGenerationConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /** A generation config with stop ids only (greedy defaults), e.g. for a model r1kit created. */
    public static HfGenerationConfig of(Integer bosTokenId, List<Integer> eosTokenIds, Integer padTokenId) {
        return new HfGenerationConfig(bosTokenId, eosTokenIds, padTokenId, null, null, null, null, null, null);
    }

    /** The JSON to write: {@code raw} when this was read from a file, else the fields that are set. */
    public JsonNode toJson() {
        if (raw != null) return raw.deepCopy();
        ObjectNode o = HfJson.WRITER.createObjectNode();
        if (bosTokenId != null) o.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) o.put("eos_token_id", eosTokenIds.get(0));
        else if (!eosTokenIds.isEmpty()) eosTokenIds.forEach(o.putArray("eos_token_id")::add);
        if (padTokenId != null) o.put("pad_token_id", padTokenId);
        if (doSample != null) o.put("do_sample", doSample);
        if (temperature != null) o.put("temperature", temperature);
        if (topP != null) o.put("top_p", topP);
        if (topK != null) o.put("top_k", topK);
        if (maxNewTokens != null) o.put("max_new_tokens", maxNewTokens);
        o.put("transformers_version", "4.51.3");
        return o;
    }

    public static HfGenerationConfig read(Path file) throws IOException {
        JsonNode root = HfJson.read(file);
        if (!root.isObject()) throw new CheckpointException(file, null, "generation config must be a JSON object");
        return new HfGenerationConfig(
                HfModelConfig.tokenId(root, "bos_token_id", file),
                HfModelConfig.tokenIds(root, "eos_token_id", file),
                HfModelConfig.tokenId(root, "pad_token_id", file),
                bool(root, "do_sample", file),
                number(root, "temperature", file),
                number(root, "top_p", file),
                integer(root, "top_k", file),
                integer(root, "max_new_tokens", file),
                root);
    }

    private static Boolean bool(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isBoolean()) throw new CheckpointException(file, key, "expected true or false, got " + v);
        return v.booleanValue();
    }

    private static Double number(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw new CheckpointException(file, key, "expected a number, got " + v);
        return v.doubleValue();
    }

    private static Integer integer(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new CheckpointException(file, key, "expected an integer, got " + v);
        return v.intValue();
    }
}

package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code config.json} of a decoder-only model r1kit can run: Llama 2/3, Qwen2/Qwen2.5, Qwen3.
 * Parsing applies the defaults of the matching transformers config class, and rejects what the
 * r1kit model does not implement (other architectures, activations, sliding-window attention) with
 * an error naming the key and the file.
 *
 * @param architecture            model family (from {@code architectures}, else {@code model_type})
 * @param vocabSize               rows of the embedding / lm_head
 * @param hiddenSize              model width
 * @param intermediateSize        SwiGLU MLP width
 * @param numHiddenLayers         decoder layers
 * @param numAttentionHeads       query heads
 * @param numKeyValueHeads        key/value heads (GQA); equals heads when absent
 * @param headDim                 per-head size; {@code hidden_size / num_attention_heads} when absent
 * @param maxPositionEmbeddings   context length the model was trained for
 * @param rmsNormEps              RMSNorm epsilon
 * @param ropeTheta               RoPE base
 * @param ropeScaling             RoPE scaling, or null for plain RoPE
 * @param tieWordEmbeddings       lm_head shares the embedding matrix
 * @param qkvBias                 q/k/v projections have a bias (Qwen2 always; Llama/Qwen3 when attention_bias)
 * @param outputBias              o_proj has a bias (Llama/Qwen3 when attention_bias)
 * @param mlpBias                 gate/up/down projections have a bias (Llama mlp_bias)
 * @param qkNorm                  per-head RMSNorm on q and k before RoPE (Qwen3)
 * @param bosTokenId              beginning-of-sequence id, or null
 * @param eosTokenIds             end-of-sequence ids (config may give one int or a list)
 * @param padTokenId              padding id, or null
 * @param torchDtype              {@code torch_dtype} (or newer {@code dtype}) string, or null
 * @param initializerRange        std of the normal init used for models created from scratch
 * @param deepseek                MLA / DeepSeekMoE / MTP keys of a {@code deepseek_v3} config, null for the other families
 */
public record HfModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int maxPositionEmbeddings,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        boolean qkNorm,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        String torchDtype,
        double initializerRange,
        DeepseekV3Params deepseek) {

    /** The model families r1kit implements, with their transformers class and model_type. */
    public enum Architecture {
        LLAMA("LlamaForCausalLM", "llama"),
        QWEN2("Qwen2ForCausalLM", "qwen2"),
        QWEN3("Qwen3ForCausalLM", "qwen3"),
        DEEPSEEK_V3("DeepseekV3ForCausalLM", "deepseek_v3");

        private final String className;
        private final String modelType;

        Architecture(String className, String modelType) {
            this.className = className;
            this.modelType = modelType;
        }

        /** transformers class name, as listed in {@code architectures}. */
        public String className() {
            return className;
        }

        /** {@code model_type} value. */
        public String modelType() {
            return modelType;
        }

        static Architecture byClassName(String s) {
            for (Architecture a : values()) if (a.className.equals(s)) return a;
            return null;
        }

        static Architecture byModelType(String s) {
            for (Architecture a : values()) if (a.modelType.equals(s)) return a;
            return null;
        }
    }

    /**
     * RoPE scaling ({@code rope_scaling}). Types: {@code linear} and {@code dynamic} use only the
     * factor; {@code llama3} uses all four numbers; {@code yarn} uses factor and
     * original_max_position_embeddings. Unused numbers are NaN / 0.
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings, Yarn yarn) {

        public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMax) {
            return new RopeScaling("llama3", factor, lowFreqFactor, highFreqFactor, originalMax, null);
        }

        public static RopeScaling linear(double factor) {
            return new RopeScaling("linear", factor, Double.NaN, Double.NaN, 0, null);
        }

        /** {@code rope_type: "yarn"}; originalMax 0 = max_position_embeddings (transformers' fallback). */
        public static RopeScaling yarn(double factor, int originalMax, Yarn yarn) {
            return new RopeScaling("yarn", factor, Double.NaN, Double.NaN, originalMax, yarn);
        }
    }

    /**
     * The optional keys of a yarn {@code rope_scaling} (transformers' {@code _compute_yarn_parameters}):
     * {@code mscale} and {@code mscale_all_dim} (0 = absent: DeepSeek's attention-scale correction,
     * which DeepseekV3Attention also applies to the softmax scale), {@code beta_fast} / {@code beta_slow}
     * (defaults 32 / 1) and an explicit {@code attention_factor} (NaN = derived from the mscales).
     */
    public record Yarn(double mscale, double mscaleAllDim, double betaFast, double betaSlow, double attentionFactor) {
        public static Yarn defaults() {
            return new Yarn(0, 0, 32, 1, Double.NaN);
        }
    }

    public HfModelConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        if (architecture == null) throw new IllegalArgumentException("architecture must be set");
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("num_key_value_heads", numKeyValueHeads);
        requirePositive("head_dim", headDim);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads (" + numAttentionHeads
                    + ") must be a multiple of num_key_value_heads (" + numKeyValueHeads + ")");
        }
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim must be even for RoPE, got " + headDim);
        if (!(rmsNormEps > 0)) throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope_theta must be > 0, got " + ropeTheta);
        if ((architecture == Architecture.DEEPSEEK_V3) != (deepseek != null))
            throw new IllegalArgumentException("the deepseek_v3 keys are given exactly for a " + Architecture.DEEPSEEK_V3.className());
        if (deepseek != null) {
            if (numKeyValueHeads != numAttentionHeads)
                throw new IllegalArgumentException("num_key_value_heads (" + numKeyValueHeads + ") must equal num_attention_heads ("
                        + numAttentionHeads + ") for deepseek_v3 (MLA up-projects a key and value per head)");
            if (headDim != deepseek.qkRopeHeadDim())
                throw new IllegalArgumentException("head_dim (" + headDim + ") must equal qk_rope_head_dim (" + deepseek.qkRopeHeadDim()
                        + ") for deepseek_v3 (the RoPE tables' width)");
            if (qkvBias || outputBias || mlpBias || qkNorm)
                throw new IllegalArgumentException("deepseek_v3 with attention_bias / mlp_bias is not supported");
        }
    }

    private static void requirePositive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }

    /** A from-scratch config with the family's usual defaults (GQA off, no rope scaling, fp32). */
    public static HfModelConfig of(Architecture arch, int vocabSize, int hiddenSize, int intermediateSize,
                                   int numLayers, int numHeads, int numKvHeads) {
        int headDim = hiddenSize / numHeads;
        if (headDim * numHeads != hiddenSize) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads " + numHeads);
        }
        return new HfModelConfig(arch, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                2048, 1e-6, arch == Architecture.LLAMA ? 10000.0 : 1_000_000.0, null, false,
                arch == Architecture.QWEN2, false, false, arch == Architecture.QWEN3,
                null, List.of(), null, "float32", 0.02, null);
    }

    /** Query heads per key/value head. */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    public HfModelConfig withTieWordEmbeddings(boolean tie) {
        return new HfModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tie, qkvBias,
                outputBias, mlpBias, qkNorm, bosTokenId, eosTokenIds, padTokenId, torchDtype, initializerRange, deepseek);
    }

    public HfModelConfig withSpecialTokens(Integer bos, List<Integer> eos, Integer pad) {
        return new HfModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings,
                qkvBias, outputBias, mlpBias, qkNorm, bos, eos, pad, torchDtype, initializerRange, deepseek);
    }

    public HfModelConfig withRope(double theta, RopeScaling scaling, int maxPositions) {
        return new HfModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositions, rmsNormEps, theta, scaling, tieWordEmbeddings, qkvBias,
                outputBias, mlpBias, qkNorm, bosTokenId, eosTokenIds, padTokenId, torchDtype, initializerRange, deepseek);
    }

    public HfModelConfig withTorchDtype(String dtype) {
        return new HfModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, headDim, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings,
                qkvBias, outputBias, mlpBias, qkNorm, bosTokenId, eosTokenIds, padTokenId, dtype, initializerRange, deepseek);
    }

    public HfModelConfig withHeadDim(int dim) {
        return new HfModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
                numKeyValueHeads, dim, maxPositionEmbeddings, rmsNormEps, ropeTheta, ropeScaling, tieWordEmbeddings,
                qkvBias, outputBias, mlpBias, qkNorm, bosTokenId, eosTokenIds, padTokenId, torchDtype, initializerRange, deepseek);
    }

    // ------------------------------------------------------------------ parsing

    /** Reads and validates a config.json. */
    public static HfModelConfig read(Path file) throws IOException {
        return fromJson(HfJson.read(file), file);
    }

    /** Parses a config already read as JSON; {@code file} is used in error messages. */
    public static HfModelConfig fromJson(JsonNode root, Path file) throws CheckpointException {
        if (!root.isObject()) throw new CheckpointException(file, null, "config must be a JSON object");
        Architecture arch = architecture(root, file);
        int vocab = reqInt(root, "vocab_size", file);
        int hidden = reqInt(root, "hidden_size", file);
        int inter = reqInt(root, "intermediate_size", file);
        int layers = reqInt(root, "num_hidden_layers", file);
        int heads = reqInt(root, "num_attention_heads", file);
        int kvHeads = optInt(root, "num_key_value_heads", heads, file);
        Integer hd = optIntOrNull(root, "head_dim", file);
        int headDim;
        DeepseekV3Params ds = arch == Architecture.DEEPSEEK_V3 ? deepseekParams(root, file) : null;
        if (ds != null) {
            // DeepseekV3Config sets head_dim = qk_rope_head_dim (the width its rotary embedding is built for)
            if (hd != null && hd != ds.qkRopeHeadDim())
                throw new CheckpointException(file, "head_dim", hd + " differs from qk_rope_head_dim " + ds.qkRopeHeadDim()
                        + " (deepseek_v3 uses head_dim for the RoPE width)");
            headDim = ds.qkRopeHeadDim();
        } else if (hd != null) {
            headDim = hd;
        } else {
            if (heads <= 0 || hidden % heads != 0) {
                throw new CheckpointException(file, "head_dim", "absent, and hidden_size " + hidden
                        + " is not divisible by num_attention_heads " + heads);
            }
            headDim = hidden / heads;
        }
        int defaultMaxPos = arch == Architecture.LLAMA ? 2048 : arch == Architecture.DEEPSEEK_V3 ? 4096 : 32768;
        int maxPos = optInt(root, "max_position_embeddings", defaultMaxPos, file);
        double eps = optDouble(root, "rms_norm_eps", 1e-6, file);
        double theta = optDouble(root, "rope_theta", 10000.0, file);
        RopeScaling scaling = ropeScaling(root, file);
        boolean tie = optBool(root, "tie_word_embeddings", false, file);
        boolean attnBias = optBool(root, "attention_bias", false, file);
        boolean mlpBias = optBool(root, "mlp_bias", false, file);
        String act = optText(root, "hidden_act", "silu", file);
        if (!act.equals("silu")) {
            throw new CheckpointException(file, "hidden_act", "'" + act + "' is not supported (r1kit implements the SwiGLU MLP, 'silu')");
        }
        if (ds != null && (attnBias || mlpBias)) {
            throw new CheckpointException(file, attnBias ? "attention_bias" : "mlp_bias", "biases are not supported for deepseek_v3");
        }
        if (ds != null && optInt(root, "num_key_value_heads", heads, file) != heads) {
            throw new CheckpointException(file, "num_key_value_heads", "must equal num_attention_heads (" + heads
                    + ") for deepseek_v3: MLA up-projects a key and a value for every head");
        }
        if (arch != Architecture.LLAMA && optBool(root, "use_sliding_window", false, file)) {
            throw new CheckpointException(file, "use_sliding_window", "sliding-window attention is not supported");
        }
        boolean qkvBias = arch == Architecture.QWEN2 || attnBias;
        boolean oBias = arch != Architecture.QWEN2 && attnBias;
        Integer bos = tokenId(root, "bos_token_id", file);
        List<Integer> eos = tokenIds(root, "eos_token_id", file);
        Integer pad = tokenId(root, "pad_token_id", file);
        String dtype = root.hasNonNull("torch_dtype") ? optText(root, "torch_dtype", null, file) : optText(root, "dtype", null, file);
        double initRange = optDouble(root, "initializer_range", 0.02, file);
        try {
            return new HfModelConfig(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim, maxPos, eps, theta, scaling,
                    tie, qkvBias, oBias, mlpBias, arch == Architecture.QWEN3, bos, eos, pad, dtype, initRange, ds);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
    }

    private static Architecture architecture(JsonNode root, Path file) throws CheckpointException {
        JsonNode archs = root.get("architectures");
        if (archs != null && !archs.isNull()) {
            if (!archs.isArray() || archs.isEmpty()) throw new CheckpointException(file, "architectures", "must be a non-empty list of class names");
            List<String> names = new ArrayList<>();
            for (JsonNode a : archs) {
                names.add(a.asText());
                Architecture found = Architecture.byClassName(a.asText());
                if (found != null) return found;
            }
            throw new CheckpointException(file, "architectures", names + " is not supported; r1kit implements "
                    + Arrays.stream(Architecture.values()).map(Architecture::className).toList());
        }
        JsonNode mt = root.get("model_type");
        if (mt == null || !mt.isTextual()) {
            throw new CheckpointException(file, "architectures", "missing (and no 'model_type' either); cannot tell the model family");
        }
        Architecture found = Architecture.byModelType(mt.textValue());
        if (found == null) {
            throw new CheckpointException(file, "model_type", "'" + mt.textValue() + "' is not supported; r1kit implements "
                    + Arrays.stream(Architecture.values()).map(Architecture::modelType).toList());
        }
        return found;
    }

    private static RopeScaling ropeScaling(JsonNode root, Path file) throws CheckpointException {
        JsonNode rs = root.get("rope_scaling");
        if (rs == null || rs.isNull()) return null;
        if (!rs.isObject()) throw new CheckpointException(file, "rope_scaling", "must be an object or null");
        JsonNode t = rs.hasNonNull("rope_type") ? rs.get("rope_type") : rs.get("type");
        if (t == null || !t.isTextual()) throw new CheckpointException(file, "rope_scaling.rope_type", "missing");
        String type = t.textValue().toLowerCase(Locale.ROOT);
        return switch (type) {
            case "default" -> null;
            case "linear", "dynamic" -> new RopeScaling(type, reqDouble(rs, "factor", file, "rope_scaling."), Double.NaN, Double.NaN,
                    optInt(rs, "original_max_position_embeddings", 0, file), null);
            case "llama3" -> new RopeScaling(type,
                    reqDouble(rs, "factor", file, "rope_scaling."),
                    reqDouble(rs, "low_freq_factor", file, "rope_scaling."),
                    reqDouble(rs, "high_freq_factor", file, "rope_scaling."),
                    (int) reqDouble(rs, "original_max_position_embeddings", file, "rope_scaling."), null);
            case "yarn" -> {
                double factor = reqDouble(rs, "factor", file, "rope_scaling.");
                if (!(factor >= 1)) throw new CheckpointException(file, "rope_scaling.factor", "must be >= 1 for yarn, got " + factor);
                double betaFast = optDouble(rs, "beta_fast", 32, file), betaSlow = optDouble(rs, "beta_slow", 1, file);
                if (betaFast < betaSlow)
                    throw new CheckpointException(file, "rope_scaling.beta_fast", "must be >= beta_slow, got " + betaFast + " < " + betaSlow);
                Yarn y = new Yarn(optDouble(rs, "mscale", 0, file), optDouble(rs, "mscale_all_dim", 0, file), betaFast, betaSlow,
                        optDouble(rs, "attention_factor", Double.NaN, file));
                yield RopeScaling.yarn(factor, optInt(rs, "original_max_position_embeddings", 0, file), y);
            }
            default -> throw new CheckpointException(file, "rope_scaling.rope_type", "'" + type
                    + "' is not supported (expected default, linear, dynamic, llama3 or yarn)");
        };
    }

    /** The deepseek_v3 keys with DeepseekV3Config's defaults (DeepSeek-V3's sizes) where absent. */
    private static DeepseekV3Params deepseekParams(JsonNode root, Path file) throws CheckpointException {
        String scoring = optText(root, "scoring_func", "sigmoid", file);
        if (!scoring.equals("sigmoid"))
            throw new CheckpointException(file, "scoring_func", "'" + scoring + "' is not supported (deepseek_v3 routes by sigmoid scores)");
        String topkMethod = optText(root, "topk_method", "noaux_tc", file);
        if (!topkMethod.equals("noaux_tc"))
            throw new CheckpointException(file, "topk_method", "'" + topkMethod + "' is not supported (deepseek_v3 uses noaux_tc: "
                    + "group-limited top-k with e_score_correction_bias)");
        Integer qLora = optIntOrNull(root, "q_lora_rank", file);
        JsonNode ql = root.get("q_lora_rank");
        if (ql == null) qLora = 1536;  // DeepseekV3Config default; an explicit null means a plain q_proj
        try {
            return new DeepseekV3Params(qLora == null ? 0 : qLora,
                    optInt(root, "kv_lora_rank", 512, file),
                    optInt(root, "qk_nope_head_dim", 128, file),
                    optInt(root, "qk_rope_head_dim", 64, file),
                    optInt(root, "v_head_dim", 128, file),
                    optBool(root, "rope_interleave", true, file),
                    optInt(root, "n_routed_experts", 256, file),
                    optInt(root, "n_shared_experts", 1, file),
                    optInt(root, "num_experts_per_tok", 8, file),
                    optInt(root, "n_group", 8, file),
                    optInt(root, "topk_group", 4, file),
                    optDouble(root, "routed_scaling_factor", 2.5, file),
                    optBool(root, "norm_topk_prob", true, file),
                    optInt(root, "first_k_dense_replace", 3, file),
                    optInt(root, "moe_intermediate_size", 2048, file),
                    optInt(root, "num_nextn_predict_layers", 0, file),
                    optDouble(root, "aux_loss_alpha", 0, file));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
    }

    private static int reqInt(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) throw new CheckpointException(file, key, "required key is missing");
        return asInt(v, key, file);
    }

    private static int asInt(JsonNode v, String key, Path file) throws CheckpointException {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new CheckpointException(file, key, "expected an integer, got " + v);
        }
        return v.intValue();
    }

    private static int optInt(JsonNode root, String key, int def, Path file) throws CheckpointException {
        Integer v = optIntOrNull(root, key, file);
        return v == null ? def : v;
    }

    private static Integer optIntOrNull(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        return asInt(v, key, file);
    }

    private static double reqDouble(JsonNode root, String key, Path file, String prefix) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) throw new CheckpointException(file, prefix + key, "required key is missing");
        if (!v.isNumber()) throw new CheckpointException(file, prefix + key, "expected a number, got " + v);
        return v.doubleValue();
    }

    private static double optDouble(JsonNode root, String key, double def, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw new CheckpointException(file, key, "expected a number, got " + v);
        return v.doubleValue();
    }

    private static boolean optBool(JsonNode root, String key, boolean def, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw new CheckpointException(file, key, "expected true or false, got " + v);
        return v.booleanValue();
    }

    private static String optText(JsonNode root, String key, String def, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return def;
        if (!v.isTextual()) throw new CheckpointException(file, key, "expected a string, got " + v);
        return v.textValue();
    }

    static Integer tokenId(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return null;
        if (v.isArray()) {
            // Some configs list several; the first is the canonical one.
            if (v.isEmpty()) return null;
            return asInt(v.get(0), key, file);
        }
        return asInt(v, key, file);
    }

    static List<Integer> tokenIds(JsonNode root, String key, Path file) throws CheckpointException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return List.of();
        List<Integer> out = new ArrayList<>();
        if (v.isArray()) {
            for (JsonNode x : v) out.add(asInt(x, key, file));
        } else {
            out.add(asInt(v, key, file));
        }
        return out;
    }

    // ------------------------------------------------------------------ writing

    /**
     * The config.json transformers writes for this family (keys of LlamaConfig / Qwen2Config /
     * Qwen3Config), so a model r1kit created from scratch loads with {@code AutoModelForCausalLM}.
     */
    public ObjectNode toJson() {
        ObjectNode o = HfJson.WRITER.createObjectNode();
        o.putArray("architectures").add(architecture.className());
        o.put("model_type", architecture.modelType());
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_key_value_heads", numKeyValueHeads);
        boolean headDimImplied = headDim * numAttentionHeads == hiddenSize;
        if ((architecture != Architecture.QWEN2 || !headDimImplied) && architecture != Architecture.DEEPSEEK_V3) o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("initializer_range", initializerRange);
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (ropeScaling == null) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode rs = o.putObject("rope_scaling");
            rs.put("rope_type", ropeScaling.type());
            rs.put("factor", ropeScaling.factor());
            if (!Double.isNaN(ropeScaling.lowFreqFactor())) rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
            if (!Double.isNaN(ropeScaling.highFreqFactor())) rs.put("high_freq_factor", ropeScaling.highFreqFactor());
            if (ropeScaling.originalMaxPositionEmbeddings() > 0) {
                rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
            Yarn y = ropeScaling.yarn();
            if (y != null) {
                if (y.mscale() != 0) rs.put("mscale", y.mscale());
                if (y.mscaleAllDim() != 0) rs.put("mscale_all_dim", y.mscaleAllDim());
                rs.put("beta_fast", y.betaFast());
                rs.put("beta_slow", y.betaSlow());
                if (!Double.isNaN(y.attentionFactor())) rs.put("attention_factor", y.attentionFactor());
            }
        }
        o.put("tie_word_embeddings", tieWordEmbeddings);
        o.put("attention_dropout", 0.0);
        switch (architecture) {
            case LLAMA -> {
                o.put("attention_bias", qkvBias);
                o.put("mlp_bias", mlpBias);
                o.put("pretraining_tp", 1);
            }
            case QWEN2 -> {
                o.put("use_sliding_window", false);
                o.put("sliding_window", maxPositionEmbeddings);
                o.put("max_window_layers", numHiddenLayers);
            }
            case QWEN3 -> {
                o.put("attention_bias", qkvBias);
                o.put("use_sliding_window", false);
                o.putNull("sliding_window");
                o.put("max_window_layers", numHiddenLayers);
            }
            case DEEPSEEK_V3 -> {
                DeepseekV3Params d = deepseek;
                o.put("attention_bias", false);
                if (d.hasQLora()) o.put("q_lora_rank", d.qLoraRank()); else o.putNull("q_lora_rank");
                o.put("kv_lora_rank", d.kvLoraRank());
                o.put("qk_nope_head_dim", d.qkNopeHeadDim());
                o.put("qk_rope_head_dim", d.qkRopeHeadDim());
                o.put("v_head_dim", d.vHeadDim());
                o.put("rope_interleave", d.ropeInterleave());
                o.put("n_routed_experts", d.nRoutedExperts());
                o.put("n_shared_experts", d.nSharedExperts());
                o.put("num_experts_per_tok", d.numExpertsPerTok());
                o.put("n_group", d.nGroup());
                o.put("topk_group", d.topkGroup());
                o.put("routed_scaling_factor", d.routedScalingFactor());
                o.put("norm_topk_prob", d.normTopkProb());
                o.put("first_k_dense_replace", d.firstKDenseReplace());
                o.put("moe_intermediate_size", d.moeIntermediateSize());
                o.put("num_nextn_predict_layers", d.numNextnPredictLayers());
                o.put("scoring_func", "sigmoid");
                o.put("topk_method", "noaux_tc");
                if (d.auxLossAlpha() > 0) o.put("aux_loss_alpha", d.auxLossAlpha());
            }
        }
        if (bosTokenId != null) o.put("bos_token_id", bosTokenId); else o.putNull("bos_token_id");
        if (eosTokenIds.isEmpty()) {
            o.putNull("eos_token_id");
        } else if (eosTokenIds.size() == 1) {
            o.put("eos_token_id", eosTokenIds.get(0));
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        if (padTokenId != null) o.put("pad_token_id", padTokenId);
        o.put("torch_dtype", torchDtype == null ? "float32" : torchDtype);
        o.put("use_cache", true);
        o.put("transformers_version", "4.51.3");
        return o;
    }

    /** Writes {@link #toJson()} pretty-printed, as transformers does. */
    public void write(Path file) throws IOException {
        Files.write(file, toJsonBytes());
    }

    byte[] toJsonBytes() throws IOException {
        return (HfJson.WRITER.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson()) + "\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}

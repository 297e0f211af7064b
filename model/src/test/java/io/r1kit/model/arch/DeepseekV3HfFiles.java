package io.r1kit.model.arch;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random tiny {@code deepseek_v3} checkpoint directories in the Hugging Face layout written WITHOUT
 * r1kit code: config.json as text, safetensors assembled byte by byte (F32, BF16 and F8_E4M3 with
 * F32 {@code weight_scale_inv} blocks, as DeepSeek-V3 releases them), MTP modules at layer index
 * {@code num_hidden_layers + d}, the router's {@code e_score_correction_bias} in F32 whatever the
 * other tensors' dtype (as released), and a WordLevel tokenizer "w0".."w{V-1}". The FP8 codes are
 * decoded here by an independent E4M3 decoder, so {@link #reference} gets the dequantised weights
 * without going through r1kit's reader.
 */
public final class DeepseekV3HfFiles {
    private DeepseekV3HfFiles() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One checkpoint kind: the dtype of the float tensors (F32 or BF16), the FP8 weight block size
     * (0 = no FP8), whether to split the tensors over two shards with an index, and config.json.
     */
    public record Kind(String name, String dtype, int fp8Block, boolean sharded, ObjectNode config) {}

    /** What {@link #write} put in the directory: the float value of every tensor, and the raw FP8 codes and scales. */
    public record Written(Map<String, float[]> weights, Map<String, byte[]> fp8Codes, Map<String, float[]> fp8Scales) {}

    static ObjectNode parse(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** q_lora, interleaved RoPE, yarn with mscale and mscale_all_dim ("type": "yarn"), first layer dense, 1 MTP module. */
    public static ObjectNode qloraYarnInterleaved() {
        return parse("""
                {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
                 "vocab_size": 67, "hidden_size": 48, "intermediate_size": 64, "moe_intermediate_size": 16,
                 "num_hidden_layers": 3, "num_nextn_predict_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 4,
                 "n_shared_experts": 1, "n_routed_experts": 8, "routed_scaling_factor": 2.5, "kv_lora_rank": 16,
                 "q_lora_rank": 24, "qk_rope_head_dim": 8, "v_head_dim": 12, "qk_nope_head_dim": 8, "rope_interleave": true,
                 "topk_method": "noaux_tc", "n_group": 4, "topk_group": 2, "num_experts_per_tok": 2,
                 "moe_layer_freq": 1, "first_k_dense_replace": 1, "norm_topk_prob": true, "scoring_func": "sigmoid",
                 "hidden_act": "silu", "max_position_embeddings": 256, "initializer_range": 0.02, "rms_norm_eps": 1e-06,
                 "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false,
                 "rope_theta": 10000, "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 4, "mscale": 1.0,
                   "mscale_all_dim": 0.8, "original_max_position_embeddings": 64, "type": "yarn"},
                 "attention_bias": false, "attention_dropout": 0.0, "torch_dtype": "bfloat16"}
                """);
    }

    /** q_lora_rank null (plain q_proj), RoPE not interleaved, no rope_scaling, v 20 wider than qk 16, one group, 2 shared experts, every layer MoE. */
    public static ObjectNode plainQNotInterleaved() {
        return parse("""
                {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
                 "vocab_size": 59, "hidden_size": 40, "intermediate_size": 48, "moe_intermediate_size": 12,
                 "num_hidden_layers": 2, "num_nextn_predict_layers": 1, "num_attention_heads": 3, "num_key_value_heads": 3,
                 "n_shared_experts": 2, "n_routed_experts": 6, "routed_scaling_factor": 1.0, "kv_lora_rank": 12,
                 "q_lora_rank": null, "qk_rope_head_dim": 6, "v_head_dim": 20, "qk_nope_head_dim": 10, "rope_interleave": false,
                 "topk_method": "noaux_tc", "n_group": 1, "topk_group": 1, "num_experts_per_tok": 3,
                 "first_k_dense_replace": 0, "norm_topk_prob": false, "scoring_func": "sigmoid",
                 "hidden_act": "silu", "max_position_embeddings": 128, "rms_norm_eps": 1e-06,
                 "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false, "rope_theta": 500.0,
                 "attention_bias": false, "torch_dtype": "float32"}
                """);
    }

    /** Plain q_proj, RoPE not interleaved, yarn without mscale keys ("rope_type": "yarn"), no shared expert, 2 MTP modules. */
    public static ObjectNode plainQYarnTwoMtp() {
        return parse("""
                {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
                 "vocab_size": 41, "hidden_size": 32, "intermediate_size": 40, "moe_intermediate_size": 8,
                 "num_hidden_layers": 2, "num_nextn_predict_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 2,
                 "n_shared_experts": 0, "n_routed_experts": 8, "routed_scaling_factor": 1.5, "kv_lora_rank": 8,
                 "q_lora_rank": null, "qk_rope_head_dim": 4, "v_head_dim": 4, "qk_nope_head_dim": 4, "rope_interleave": false,
                 "topk_method": "noaux_tc", "n_group": 2, "topk_group": 1, "num_experts_per_tok": 3,
                 "first_k_dense_replace": 1, "norm_topk_prob": true, "scoring_func": "sigmoid",
                 "hidden_act": "silu", "max_position_embeddings": 256, "rms_norm_eps": 1e-05,
                 "bos_token_id": 0, "eos_token_id": 1, "tie_word_embeddings": false, "rope_theta": 10000.0,
                 "rope_scaling": {"rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 32,
                   "beta_fast": 32, "beta_slow": 1},
                 "attention_bias": false, "torch_dtype": "bfloat16"}
                """);
    }

    static int i(JsonNode c, String key) {
        return c.get(key).intValue();
    }

    static boolean hasQLora(JsonNode c) {
        return c.has("q_lora_rank") && !c.get("q_lora_rank").isNull();
    }

    /** name → shape in the order DeepseekV3ForCausalLM's state_dict lists them, MTP layers included. */
    public static Map<String, int[]> shapes(JsonNode c) {
        int V = i(c, "vocab_size"), C = i(c, "hidden_size"), L = i(c, "num_hidden_layers"), D = i(c, "num_nextn_predict_layers");
        int H = i(c, "num_attention_heads"), qk = i(c, "qk_nope_head_dim") + i(c, "qk_rope_head_dim");
        int kvLora = i(c, "kv_lora_rank"), dRope = i(c, "qk_rope_head_dim"), dNope = i(c, "qk_nope_head_dim"), dV = i(c, "v_head_dim");
        int E = i(c, "n_routed_experts"), moe = i(c, "moe_intermediate_size"), shared = i(c, "n_shared_experts");
        Map<String, int[]> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new int[] {V, C});
        for (int l = 0; l < L + D; l++) {
            String p = "model.layers." + l + ".";
            if (l >= L) {
                s.put(p + "embed_tokens.weight", new int[] {V, C});
                s.put(p + "enorm.weight", new int[] {C});
                s.put(p + "hnorm.weight", new int[] {C});
                s.put(p + "eh_proj.weight", new int[] {C, 2 * C});
                s.put(p + "shared_head.norm.weight", new int[] {C});
                s.put(p + "shared_head.head.weight", new int[] {V, C});
            }
            if (hasQLora(c)) {
                int r = i(c, "q_lora_rank");
                s.put(p + "self_attn.q_a_proj.weight", new int[] {r, C});
                s.put(p + "self_attn.q_a_layernorm.weight", new int[] {r});
                s.put(p + "self_attn.q_b_proj.weight", new int[] {H * qk, r});
            } else {
                s.put(p + "self_attn.q_proj.weight", new int[] {H * qk, C});
            }
            s.put(p + "self_attn.kv_a_proj_with_mqa.weight", new int[] {kvLora + dRope, C});
            s.put(p + "self_attn.kv_a_layernorm.weight", new int[] {kvLora});
            s.put(p + "self_attn.kv_b_proj.weight", new int[] {H * (dNope + dV), kvLora});
            s.put(p + "self_attn.o_proj.weight", new int[] {C, H * dV});
            if (l < i(c, "first_k_dense_replace")) {
                int f = i(c, "intermediate_size");
                s.put(p + "mlp.gate_proj.weight", new int[] {f, C});
                s.put(p + "mlp.up_proj.weight", new int[] {f, C});
                s.put(p + "mlp.down_proj.weight", new int[] {C, f});
            } else {
                s.put(p + "mlp.gate.weight", new int[] {E, C});
                s.put(p + "mlp.gate.e_score_correction_bias", new int[] {E});
                for (int e = 0; e < E; e++) {
                    s.put(p + "mlp.experts." + e + ".gate_proj.weight", new int[] {moe, C});
                    s.put(p + "mlp.experts." + e + ".up_proj.weight", new int[] {moe, C});
                    s.put(p + "mlp.experts." + e + ".down_proj.weight", new int[] {C, moe});
                }
                if (shared > 0) {
                    s.put(p + "mlp.shared_experts.gate_proj.weight", new int[] {moe * shared, C});
                    s.put(p + "mlp.shared_experts.up_proj.weight", new int[] {moe * shared, C});
                    s.put(p + "mlp.shared_experts.down_proj.weight", new int[] {C, moe * shared});
                }
            }
            s.put(p + "input_layernorm.weight", new int[] {C});
            s.put(p + "post_attention_layernorm.weight", new int[] {C});
        }
        s.put("model.norm.weight", new int[] {C});
        s.put("lm_head.weight", new int[] {V, C});
        return s;
    }

    /**
     * The tensors DeepSeek-V3's release stores in FP8: the 2-D linear weights of the decoder blocks,
     * MTP blocks included; not the routers, norms, embeddings, lm head, nor an MTP module's
     * {@code eh_proj}, embedding and {@code shared_head.head} copies (vLLM's DeepSeekMTP builds
     * {@code eh_proj} as a plain unquantised nn.Linear).
     */
    public static boolean storedAsFp8(String name, int[] shape) {
        return shape.length == 2 && name.startsWith("model.layers.") && !name.endsWith("mlp.gate.weight")
                && !name.endsWith("eh_proj.weight") && !name.endsWith("embed_tokens.weight") && !name.endsWith("shared_head.head.weight");
    }

    /** E4M3 ("fn") decoding from the bit fields: sign, 4 exponent bits (bias 7), 3 mantissa bits; S.1111.111 is NaN. */
    public static float decodeE4M3(byte code) {
        int b = code & 0xFF, sign = b >> 7, e = (b >> 3) & 0xF, m = b & 7;
        if (e == 15 && m == 7) return Float.NaN;
        double v = e == 0 ? m / 8.0 * Math.pow(2, -6) : (1 + m / 8.0) * Math.pow(2, e - 7);
        return (float) (sign == 1 ? -v : v);
    }

    static float bf16(float x) {
        return Float.intBitsToFloat(bf16Bits(x) << 16);
    }

    static int bf16Bits(float f) {
        int b = Float.floatToRawIntBits(f);
        return ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    /** One tensor as stored: dtype string and little-endian bytes. */
    record Stored(String name, String dtype, int[] shape, byte[] bytes) {
        int elementSize() {
            return switch (dtype) {
                case "F32" -> 4;
                case "BF16" -> 2;
                default -> 1;
            };
        }
    }

    static Stored floats(String name, int[] shape, float[] v, String dtype) {
        boolean half = dtype.equals("BF16");
        ByteBuffer bb = ByteBuffer.allocate(v.length * (half ? 2 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            if (half) bb.putShort((short) bf16Bits(x));
            else bb.putFloat(x);
        }
        return new Stored(name, dtype, shape, bb.array());
    }

    /** A safetensors file: u64 LE header length, JSON header padded with spaces to 8 bytes, then the data (wider dtypes first). */
    static void writeSafetensors(Path file, List<Stored> tensors) throws IOException {
        List<Stored> ordered = new ArrayList<>(tensors);
        ordered.sort(Comparator.comparingInt(Stored::elementSize).reversed().thenComparing(Stored::name));
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Stored t : ordered) {
            long start = data.size();
            data.write(t.bytes);
            StringBuilder shape = new StringBuilder();
            for (int d : t.shape) shape.append(shape.length() == 0 ? "" : ",").append(d);
            h.append(",\"").append(t.name).append("\":{\"dtype\":\"").append(t.dtype).append("\",\"shape\":[")
                    .append(shape).append("],\"data_offsets\":[").append(start).append(",").append(data.size()).append("]}");
        }
        h.append("}");
        while (h.length() % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
        all.write(header);
        all.write(data.toByteArray());
        Files.write(file, all.toByteArray());
    }

    /**
     * Writes a random checkpoint of {@code kind} to {@code dir}. Float weights: norms 1 + 0.2·N(0,1),
     * correction biases 0.1·N(0,1), the rest 0.2·N(0,1), rounded to BF16 when stored as BF16. FP8
     * weights: per-block scales 0.2/448 · U(0.5, 2) and random E4M3 codes with exponent fields 9..15
     * (never NaN), i.e. block values up to about ±0.4 spanning two decades, as quantised weights do.
     */
    public static Written write(Path dir, Kind kind, long seed) throws IOException {
        Files.createDirectories(dir);
        ObjectNode cfg = kind.config.deepCopy();
        cfg.put("torch_dtype", kind.dtype.equals("BF16") ? "bfloat16" : "float32");
        if (kind.fp8Block > 0) {
            cfg.set("quantization_config", parse("{\"activation_scheme\": \"dynamic\", \"fmt\": \"e4m3\", \"quant_method\": \"fp8\", "
                    + "\"weight_block_size\": [" + kind.fp8Block + ", " + kind.fp8Block + "]}"));
        }
        Files.writeString(dir.resolve("config.json"), cfg.toPrettyString());
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, int[]> shapes = shapes(cfg);
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, byte[]> codes = new LinkedHashMap<>();
        Map<String, float[]> scales = new LinkedHashMap<>();
        List<List<Stored>> units = new ArrayList<>();
        int L = i(cfg, "num_hidden_layers");
        for (var e : shapes.entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) n *= d;
            String mtpCopyOf = name.matches("model\\.layers\\.\\d+\\.embed_tokens\\.weight") ? "model.embed_tokens.weight"
                    : name.endsWith(".shared_head.head.weight") ? "lm_head.weight" : null;
            if (kind.fp8Block > 0 && storedAsFp8(name, shape)) {
                int rows = shape[0], cols = shape[1], b = kind.fp8Block;
                int rb = (rows + b - 1) / b, cb = (cols + b - 1) / b;
                float[] s = new float[rb * cb];
                for (int k = 0; k < s.length; k++) s[k] = (float) (0.2 / 448 * (0.5 + 1.5 * r.nextDouble()));
                byte[] c = new byte[n];
                float[] v = new float[n];
                for (int k = 0; k < n; k++) {
                    int bits = (r.nextBoolean() ? 0x80 : 0) | ((9 + r.nextInt(7)) << 3) | r.nextInt(8);
                    if ((bits & 0x7F) == 0x7F) bits--;
                    c[k] = (byte) bits;
                    v[k] = decodeE4M3(c[k]) * s[(k / cols / b) * cb + (k % cols) / b];
                }
                codes.put(name, c);
                scales.put(name, s);
                w.put(name, v);
                ByteBuffer sb = ByteBuffer.allocate(4 * s.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : s) sb.putFloat(x);
                units.add(List.of(new Stored(name, "F8_E4M3", shape, c), new Stored(name + "_scale_inv", "F32", new int[] {rb, cb}, sb.array())));
                continue;
            }
            boolean bias = name.endsWith("e_score_correction_bias"), norm = name.endsWith("norm.weight");
            float[] v = new float[n];
            if (mtpCopyOf != null && w.containsKey(mtpCopyOf)) {
                v = w.get(mtpCopyOf).clone();
            } else {
                for (int k = 0; k < n; k++) {
                    float x = (float) (norm ? 1 + 0.2 * r.nextGaussian() : bias ? 0.1 * r.nextGaussian() : 0.2 * r.nextGaussian());
                    v[k] = bias || kind.dtype.equals("F32") ? x : bf16(x);
                }
            }
            w.put(name, v);
            units.add(List.of(floats(name, shape, v, bias ? "F32" : kind.dtype)));
        }
        // The MTP copy of lm_head precedes lm_head in state_dict order: copy it now that lm_head exists.
        for (int d = 0; d < i(cfg, "num_nextn_predict_layers"); d++) {
            String copy = "model.layers." + (L + d) + ".shared_head.head.weight";
            w.put(copy, w.get("lm_head.weight").clone());
            for (int u = 0; u < units.size(); u++) {
                if (units.get(u).get(0).name.equals(copy)) units.set(u, List.of(floats(copy, shapes.get(copy), w.get(copy), kind.dtype)));
            }
        }
        if (!kind.sharded) {
            writeSafetensors(dir.resolve("model.safetensors"), units.stream().flatMap(List::stream).toList());
        } else {
            int half = units.size() / 2;
            List<List<List<Stored>>> parts = List.of(units.subList(0, half), units.subList(half, units.size()));
            StringBuilder idx = new StringBuilder("{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
            boolean first = true;
            for (int k = 0; k < 2; k++) {
                String f = String.format("model-%05d-of-%05d.safetensors", k + 1, 2);
                List<Stored> ts = parts.get(k).stream().flatMap(List::stream).toList();
                writeSafetensors(dir.resolve(f), ts);
                for (Stored t : ts) {
                    idx.append(first ? "" : ", ").append('"').append(t.name).append("\": \"").append(f).append('"');
                    first = false;
                }
            }
            idx.append("}}");
            Files.writeString(dir.resolve("model.safetensors.index.json"), idx.toString());
        }
        int V = i(cfg, "vocab_size");
        StringBuilder vocab = new StringBuilder();
        for (int k = 0; k < V; k++) vocab.append(k == 0 ? "" : ",").append("\"w").append(k).append("\":").append(k);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[],"
                + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":null,\"decoder\":null,"
                + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{" + vocab + "},\"unk_token\":\"w0\"}}");
        return new Written(w, codes, scales);
    }

    /** The float64 libtorch reference with its hyper-parameters read from config.json here (not through r1kit's parser). */
    public static TorchDeepseekV3 reference(NDManager nd, ObjectNode c, Map<String, float[]> weights) {
        TorchDeepseekV3 t = new TorchDeepseekV3(nd, weights);
        t.vocab = i(c, "vocab_size");
        t.hidden = i(c, "hidden_size");
        t.layers = i(c, "num_hidden_layers");
        t.heads = i(c, "num_attention_heads");
        t.ffn = i(c, "intermediate_size");
        t.theta = c.get("rope_theta").doubleValue();
        t.eps = c.get("rms_norm_eps").doubleValue();
        t.tie = c.get("tie_word_embeddings").booleanValue();
        t.qLora = hasQLora(c) ? i(c, "q_lora_rank") : 0;
        t.kvLora = i(c, "kv_lora_rank");
        t.dNope = i(c, "qk_nope_head_dim");
        t.dRope = i(c, "qk_rope_head_dim");
        t.dV = i(c, "v_head_dim");
        t.interleave = c.get("rope_interleave").booleanValue();
        t.E = i(c, "n_routed_experts");
        t.nShared = i(c, "n_shared_experts");
        t.topK = i(c, "num_experts_per_tok");
        t.nGroup = i(c, "n_group");
        t.topkGroup = i(c, "topk_group");
        t.firstDense = i(c, "first_k_dense_replace");
        t.moeFfn = i(c, "moe_intermediate_size");
        t.rsf = c.get("routed_scaling_factor").doubleValue();
        t.normTopk = c.get("norm_topk_prob").booleanValue();
        JsonNode y = c.get("rope_scaling");
        if (y != null && !y.isNull()) {
            t.yFactor = y.get("factor").doubleValue();
            t.yOrig = y.get("original_max_position_embeddings").doubleValue();
            t.yMscale = y.has("mscale") ? y.get("mscale").doubleValue() : 0;
            t.yMscaleAll = y.has("mscale_all_dim") ? y.get("mscale_all_dim").doubleValue() : 0;
            t.yBetaFast = y.get("beta_fast").doubleValue();
            t.yBetaSlow = y.get("beta_slow").doubleValue();
        }
        return t;
    }
}

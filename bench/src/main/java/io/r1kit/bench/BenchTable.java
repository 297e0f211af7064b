package io.r1kit.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/** The human-readable form of the bench result: machine, then one table per section. */
final class BenchTable {
    private BenchTable() {}

    static String render(ObjectNode root) {
        StringBuilder sb = new StringBuilder();
        sb.append("machine\n");
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("machine").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            sb.append(String.format(Locale.ROOT, "  %-16s %s%n", e.getKey(), e.getValue().asText()));
        }
        JsonNode s = root.get("settings");
        sb.append(String.format(Locale.ROOT, "medians of %d interleaved repeats; ratio = libtorch time / r1kit time (> 1: r1kit faster)%n",
                s.get("repeats").asInt()));
        if (root.has("gemm")) {
            sb.append(String.format(Locale.ROOT, "%ngemm (fp32)%n  %-28s %6s %6s %6s %5s %5s %12s %12s %7s%n",
                    "shape", "m", "n", "k", "tA", "tB", "r1kit GF/s", "libtorch GF/s", "ratio"));
            for (JsonNode r : root.get("gemm")) {
                sb.append(String.format(Locale.ROOT, "  %-28s %6d %6d %6d %5s %5s %12.1f %12.1f %7.2f%n",
                        r.get("label").asText(), r.get("m").asInt(), r.get("n").asInt(), r.get("k").asInt(),
                        r.get("trans_a").asBoolean() ? "T" : "-", r.get("trans_b").asBoolean() ? "T" : "-",
                        r.get("r1kit_gflops").asDouble(), r.get("libtorch_gflops").asDouble(), r.get("ratio").asDouble()));
            }
            if (root.has("gemm_kernel_ceiling")) {
                JsonNode r = root.get("gemm_kernel_ceiling");
                sb.append(String.format(Locale.ROOT, "  %-28s %6d %6d %6d %5s %5s %12.1f %12.1f %7.2f%n",
                        "micro-kernel ceiling (*)", r.get("m").asInt(), r.get("n").asInt(), r.get("k").asInt(), "-", "-",
                        r.get("r1kit_kernel_gflops").asDouble(), r.get("libtorch_gflops").asDouble(), r.get("ratio").asDouble()));
                sb.append("  (*) r1kit's micro-kernel calls for that GEMM, no packing, operands in cache, vs libtorch's whole GEMM\n");
            }
        }
        if (root.has("attention")) {
            sb.append(String.format(Locale.ROOT, "%nattention, causal GQA, forward+backward%n  %3s %5s %4s %4s %4s %12s %12s %7s%n",
                    "B", "T", "Hq", "Hkv", "D", "r1kit ms", "libtorch ms", "ratio"));
            for (JsonNode r : root.get("attention")) {
                sb.append(String.format(Locale.ROOT, "  %3d %5d %4d %4d %4d %s%n", r.get("b").asInt(), r.get("t").asInt(),
                        r.get("hq").asInt(), r.get("hkv").asInt(), r.get("d").asInt(), times(r)));
            }
        }
        if (root.has("decode")) {
            JsonNode d = root.get("decode");
            sb.append(String.format(Locale.ROOT, "%ndecode, %,d-parameter model, prompt %d, %d new tokens (r1kit only)%n"
                            + "  batch 1: %.1f tok/s   batch 32: %.1f tok/s   batch 32 end to end: %.1f tok/s%n",
                    d.get("parameters").asLong(), d.get("prompt_tokens").asInt(), d.get("new_tokens").asInt(),
                    d.get("batch1_tokens_per_second").asDouble(), d.get("batch32_tokens_per_second").asDouble(),
                    d.get("batch32_end_to_end_tokens_per_second").asDouble()));
        }
        if (root.has("decode_precision")) {
            sb.append(String.format(Locale.ROOT, "%ndecode with fp32 / bf16 / fp8 projection weights (memory bandwidth %.1f GB/s)%n"
                    + "  %7s %6s %12s %16s %8s%n", root.path("memory_bandwidth_gb_per_s").asDouble(), "weights", "batch", "tokens/s",
                    "bytes/token", "vs fp32"));
            Map<Integer, Double> fp32 = new HashMap<>();
            for (JsonNode r : root.get("decode_precision")) {
                if (r.get("weights").asText().equals("fp32")) fp32.put(r.get("batch").asInt(), r.get("tokens_per_s").asDouble());
            }
            for (JsonNode r : root.get("decode_precision")) {
                double base = fp32.getOrDefault(r.get("batch").asInt(), Double.NaN);
                sb.append(String.format(Locale.ROOT, "  %7s %6d %12.2f %16d %7.2fx%n", r.get("weights").asText(), r.get("batch").asInt(),
                        r.get("tokens_per_s").asDouble(), r.get("weight_bytes_per_token").asLong(), r.get("tokens_per_s").asDouble() / base));
            }
        }
        if (root.has("rmsnorm_rope")) {
            sb.append(String.format(Locale.ROOT, "%nrmsnorm + rope, forward+backward%n  %6s %6s %9s %12s %12s %7s%n",
                    "rows", "heads", "head_dim", "r1kit ms", "libtorch ms", "ratio"));
            for (JsonNode r : root.get("rmsnorm_rope")) {
                sb.append(String.format(Locale.ROOT, "  %6d %6d %9d %s%n", r.get("rows").asInt(), r.get("heads").asInt(),
                        r.get("head_dim").asInt(), times(r)));
            }
        }
        if (root.has("mla")) {
            sb.append(String.format(Locale.ROOT, "%nDeepSeek-V3 multi-head latent attention, forward+backward%n  %3s %5s %6s %3s %6s %7s %5s %5s %4s %12s %12s %7s%n",
                    "B", "T", "hidden", "H", "q_lora", "kv_lora", "nope", "rope", "v", "r1kit ms", "libtorch ms", "ratio"));
            for (JsonNode r : root.get("mla")) {
                sb.append(String.format(Locale.ROOT, "  %3d %5d %6d %3d %6d %7d %5d %5d %4d %s%n", r.get("b").asInt(), r.get("t").asInt(),
                        r.get("hidden").asInt(), r.get("heads").asInt(), r.get("q_lora_rank").asInt(), r.get("kv_lora_rank").asInt(),
                        r.get("qk_nope_head_dim").asInt(), r.get("qk_rope_head_dim").asInt(), r.get("v_head_dim").asInt(), times(r)));
            }
        }
        if (root.has("moe")) {
            sb.append(String.format(Locale.ROOT, "%nDeepSeekMoE layer, forward+backward%n  %3s %5s %6s %7s %6s %5s %4s %6s %6s %12s %12s %7s%n",
                    "B", "T", "hidden", "experts", "groups", "kept", "k", "width", "shared", "r1kit ms", "libtorch ms", "ratio"));
            for (JsonNode r : root.get("moe")) {
                sb.append(String.format(Locale.ROOT, "  %3d %5d %6d %7d %6d %5d %4d %6d %6d %s%n", r.get("b").asInt(), r.get("t").asInt(),
                        r.get("hidden").asInt(), r.get("n_routed_experts").asInt(), r.get("n_group").asInt(), r.get("topk_group").asInt(),
                        r.get("num_experts_per_tok").asInt(), r.get("moe_intermediate_size").asInt(), r.get("n_shared_experts").asInt(), times(r)));
            }
        }
        return sb.toString();
    }

    private static String times(JsonNode r) {
        if (!"ok".equals(r.get("status").asText())) return "unavailable: " + r.get("reason").asText();
        return String.format(Locale.ROOT, "%12.2f %12.2f %7.2f", r.get("r1kit_ms").asDouble(),
                r.get("libtorch_ms").asDouble(), r.get("ratio").asDouble());
    }
}

package io.r1kit.model.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * How FP8 weights are laid out in a Hugging Face checkpoint, as DeepSeek-V3 releases them and
 * transformers' fine-grained FP8 integration reads them: the weight {@code W} stored as
 * {@code F8_E4M3} codes, its dequantising scales as {@code W_scale_inv} (F32, one per
 * {@code weight_block_size} block, {@code W ≈ decode(codes) * scale_inv}), and config.json's
 * {@code quantization_config}:
 * <pre>{"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128]}</pre>
 */
public final class Fp8CheckpointLayout {
    /** Suffix of a weight's scale tensor: {@code W + "_scale_inv"}. */
    public static final String SCALE_SUFFIX = "_scale_inv";

    private Fp8CheckpointLayout() {}

    /**
     * The FP8 quantisation a config.json declares.
     *
     * @param format     the codes' format ({@code fmt}, default e4m3)
     * @param blockRows  {@code weight_block_size[0]}, or 0 when absent (then only per-tensor scales are accepted)
     * @param blockCols  {@code weight_block_size[1]}, or 0 when absent
     */
    public record Quantization(Fp8Format format, int blockRows, int blockCols) {}

    /** The quantisation config.json declares, or null when it has no {@code quantization_config} with quant_method fp8. */
    public static Quantization parse(JsonNode config, Path configFile) throws CheckpointException {
        JsonNode q = config == null ? null : config.get("quantization_config");
        if (q == null || q.isNull()) return null;
        if (!q.isObject()) throw new CheckpointException(configFile, "quantization_config", "must be an object");
        JsonNode method = q.get("quant_method");
        if (method == null || !method.isTextual()) {
            throw new CheckpointException(configFile, "quantization_config.quant_method", "missing or not a string");
        }
        if (!method.textValue().equals("fp8")) {
            throw new CheckpointException(configFile, "quantization_config.quant_method", "'" + method.textValue()
                    + "' is not supported (r1kit reads quant_method fp8 only)");
        }
        Fp8Format fmt = Fp8Format.E4M3;
        JsonNode f = q.get("fmt");
        if (f != null && !f.isNull()) {
            try {
                fmt = Fp8Format.parse(f.asText());
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(configFile, "quantization_config.fmt", e.getMessage());
            }
        }
        JsonNode wbs = q.get("weight_block_size");
        if (wbs == null || wbs.isNull()) return new Quantization(fmt, 0, 0);
        if (!wbs.isArray() || wbs.size() != 2 || !wbs.get(0).canConvertToInt() || !wbs.get(1).canConvertToInt()
                || !wbs.get(0).isIntegralNumber() || !wbs.get(1).isIntegralNumber() || wbs.get(0).intValue() <= 0 || wbs.get(1).intValue() <= 0) {
            throw new CheckpointException(configFile, "quantization_config.weight_block_size", "is " + wbs
                    + "; expected two positive integers [rows, cols], e.g. [128, 128]");
        }
        return new Quantization(fmt, wbs.get(0).intValue(), wbs.get(1).intValue());
    }

    /** The quantization_config written for these tensors (all of one format and block shape). */
    public static ObjectNode quantizationConfig(Collection<Fp8Blocks> tensors) {
        Fp8Blocks first = tensors.iterator().next();
        for (Fp8Blocks b : tensors) {
            if (b.format() != first.format() || b.blockRows() != first.blockRows() || b.blockCols() != first.blockCols()) {
                throw new IllegalArgumentException("FP8 tensors of one checkpoint must share format and block shape: "
                        + first + " vs " + b);
            }
        }
        ObjectNode q = HfJson.WRITER.createObjectNode();
        q.put("activation_scheme", "dynamic");
        q.put("fmt", first.format().name().toLowerCase(Locale.ROOT));
        q.put("quant_method", "fp8");
        q.putArray("weight_block_size").add(first.blockRows()).add(first.blockCols());
        return q;
    }

    /** The two tensors that store {@code name}: codes and F32 scales. */
    static List<StoredTensor> stored(String name, Fp8Blocks b) {
        return List.of(
                StoredTensor.ofBytes(name, b.format().dtype(), new int[] {b.rows(), b.cols()}, b.codes()),
                new StoredTensor(name + SCALE_SUFFIX, DType.F32, new int[] {b.rowBlocks(), b.colBlocks()}, b.scaleInv(), null));
    }
}

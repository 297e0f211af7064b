package io.r1kit.model.generate;

import java.util.Locale;

/**
 * What the CPU decode path reads for the decoder layers' projection weights: the fp32 master
 * weights, a bf16 copy (2 bytes per weight) or an FP8 E4M3 copy with one scale per 128×128 block
 * (1 byte per weight). Decoding at small batch is limited by how many weight bytes each step
 * reads, so the narrower copies decode faster; the embedding, norms and lm head stay fp32.
 */
public enum DecodePrecision {
    FP32, BF16, FP8;

    /** "fp32", "bf16" or "fp8" (case-insensitive). */
    public static DecodePrecision parse(String s) {
        return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            case "fp8" -> FP8;
            default -> throw new IllegalArgumentException("decode weights must be fp32, bf16 or fp8, got '" + s + "'");
        };
    }

    /** The lowercase name used in configs and bench output. */
    public String yamlName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

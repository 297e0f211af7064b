package io.r1kit.model.arch;

import java.util.Locale;

/**
 * How a device model's forward stores what its linear layers read (see {@link CausalLM#precision}).
 * FP32: every weight and activation in fp32 (the GEMMs may still round operands, per backend).
 * BF16: mixed precision: the decoder layers' projections read the bf16 weight copy AdamW keeps,
 * and their inputs are stored in bf16 for backward; master weights, optimizer state, norms,
 * softmax, loss and reductions stay fp32.
 */
public enum Precision {
    FP32, BF16;

    /** "fp32" or "bf16" (case-insensitive), as written in configs. */
    public static Precision parse(String s) {
        return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("precision must be fp32 or bf16, got '" + s + "'");
        };
    }
}

package io.r1kit.model.arch;

import io.r1kit.model.fp8.Fp8Recipe;
import java.util.Locale;

/**
 * How a device model's forward stores what its linear layers read (see {@link CausalLM#precision}).
 * FP32: every weight and activation in fp32 (the GEMMs may still round operands, per backend).
 * BF16: mixed precision: the decoder layers' projections read the bf16 weight copy AdamW keeps,
 * and their inputs are stored in bf16 for backward; master weights, optimizer state, norms,
 * softmax, loss and reductions stay fp32.
 * FP8 (host models): DeepSeek-V3's recipe emulated exactly ({@link Fp8Recipe#FINE_GRAINED}): the
 * decoder layers' projections run forward and both backward GEMMs on E4M3 operands with 1×128 /
 * 128×128 scales, FP32 accumulation per 128-wide chunk, their inputs saved for backward as FP8;
 * master weights, embedding, lm head, norms and attention stay fp32. FP8_TENSOR: the same with
 * one scale per tensor (the coarse baseline).
 */
public enum Precision {
    FP32, BF16, FP8, FP8_TENSOR;

    /** "fp32", "bf16", "fp8" or "fp8_tensor" (case-insensitive), as written in configs. */
    public static Precision parse(String s) {
        return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            case "fp8" -> FP8;
            case "fp8_tensor" -> FP8_TENSOR;
            default -> throw new IllegalArgumentException("precision must be fp32, bf16, fp8 or fp8_tensor, got '" + s + "'");
        };
    }

    /** The FP8 recipe of FP8 and FP8_TENSOR, else null. */
    public Fp8Recipe fp8Recipe() {
        return switch (this) {
            case FP8 -> Fp8Recipe.FINE_GRAINED;
            case FP8_TENSOR -> Fp8Recipe.PER_TENSOR;
            default -> null;
        };
    }
}

package io.r1kit.model.lora;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * LoRA settings with PEFT's meaning and defaults ({@code peft.LoraConfig}): rank {@code r},
 * {@code lora_alpha} (the adapter term is scaled by alpha / r), {@code lora_dropout} (applied to the
 * adapter branch's input only, while training), and the projections of each decoder block that get
 * an adapter ({@code target_modules}; {@code all-linear} names all seven).
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules) {
    /** The seven projections of a Llama / Qwen decoder block, in the order adapters are listed and saved. */
    public static final List<String> MODULES = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
    /** PEFT's target_modules for llama / qwen2 / qwen3 when none are given. */
    public static final List<String> PEFT_DEFAULT_TARGETS = List.of("q_proj", "v_proj");

    public LoraConfig {
        if (r < 1) throw new IllegalArgumentException("lora: r must be ≥ 1, got " + r);
        if (!(loraAlpha > 0) || !Double.isFinite(loraAlpha))
            throw new IllegalArgumentException("lora: lora_alpha must be > 0 and finite, got " + loraAlpha);
        if (!(loraDropout >= 0 && loraDropout < 1))
            throw new IllegalArgumentException("lora: lora_dropout must be in [0, 1), got " + loraDropout);
        targetModules = normalise(targetModules == null ? PEFT_DEFAULT_TARGETS : targetModules);
    }

    /** PEFT's defaults: r 8, lora_alpha 8, lora_dropout 0, target_modules [q_proj, v_proj]. */
    public static LoraConfig peftDefaults() {
        return new LoraConfig(8, 8, 0, null);
    }

    /** The factor of the adapter term, lora_alpha / r (PEFT without use_rslora). */
    public double scaling() {
        return loraAlpha / r;
    }

    /** Whether projection {@code module} (e.g. "q_proj") gets an adapter. */
    public boolean targets(String module) {
        return targetModules.contains(module);
    }

    /** Known module names in {@link #MODULES} order, "all-linear" expanded; unknown or repeated names are errors. */
    private static List<String> normalise(List<String> given) {
        if (given.isEmpty()) throw new IllegalArgumentException("lora: target_modules must name at least one projection of " + MODULES);
        LinkedHashSet<String> set = new LinkedHashSet<>();
        for (String m : given) {
            if ("all-linear".equals(m)) {
                set.addAll(MODULES);
                continue;
            }
            if (!MODULES.contains(m))
                throw new IllegalArgumentException("lora: target_modules entry '" + m + "' is not a projection of a decoder block; allowed: "
                        + MODULES + " or all-linear (the lm_head and embeddings are not targeted)");
            if (!set.add(m)) throw new IllegalArgumentException("lora: target_modules names '" + m + "' twice");
        }
        List<String> ordered = new ArrayList<>();
        for (String m : MODULES) if (set.contains(m)) ordered.add(m);
        return List.copyOf(ordered);
    }
}

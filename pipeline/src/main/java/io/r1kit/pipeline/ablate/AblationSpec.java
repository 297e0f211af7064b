package io.r1kit.pipeline.ablate;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An ablation file: a base run config, the variants to compare and the seeds to repeat them with.
 * Every key is optional except {@code base} and one of {@code grid} / {@code variants}.
 *
 * <pre>
 * base: ../quickstart.yaml                 # the run config every variant starts from (relative to this file)
 * seeds: [1, 2, 3]
 * seed_keys: [stages.r1_zero.seed]         # what a seed sets (default: the run's top-level seed)
 * set: [stages.r1_zero.max_steps=60]       # overrides for every variant
 * grid:                                    # variants = every combination of these values
 *   stages.r1_zero.loss_type: [grpo, dr_grpo, dapo]
 * variants:                                # or/and: named variants, each a list of overrides
 *   - {name: ppo, set: ["stages.r1_zero={name: r1_zero, type: ppo, data: train, ...}"]}
 * </pre>
 *
 * @param base       the run config (path relative to the ablation file)
 * @param name       names the output directory (default: the file name without .yaml)
 * @param seeds      seeds each variant runs with (default [1])
 * @param seedKeys   config keys a seed is written to (default [seed]). Setting only the RL stage's
 *                   seed keeps everything before it identical across seeds, so it runs once
 * @param set        overrides applied to every variant before its own (default none)
 * @param grid       key → values; the variants are the cartesian product, named key=value
 * @param variants   named variants with their overrides; combined with {@code grid} as a product
 * @param evalStage  the eval stage whose {@code eval/<stage>.json} is compared (default: the last
 *                   {@code eval} stage, else the last stage with {@code eval_data})
 * @param trainStage the stage whose training curves are overlaid (default: the last grpo or ppo stage)
 * @param curves     metrics plotted across variants (default reward, accuracy, completion length,
 *                   length of wrong answers, kl, entropy; metrics a run lacks are left out)
 * @param parallel   runs at a time (default: one per 4 cores, at least 1; runs beyond the first are
 *                   separate JVMs sharing the cores)
 * @param runDir     where the runs and the summary go (default runs/ablations/&lt;name&gt;)
 */
public record AblationSpec(String base, String name, List<Long> seeds, List<String> seedKeys, List<String> set,
                           LinkedHashMap<String, List<JsonNode>> grid, List<Variant> variants, String evalStage,
                           String trainStage, List<String> curves, Integer parallel, String runDir) {

    public static final List<String> DEFAULT_CURVES = List.of("reward", "accuracy", "completions/mean_length",
            "completions/mean_length_incorrect", "kl", "entropy");

    /** A named variant: overrides in the {@code --set} form. */
    public record Variant(String name, List<String> set) {
        public Variant {
            if (name == null || !name.matches("[A-Za-z0-9._=+-]+")) {
                throw new IllegalArgumentException("variants[].name is required and may use letters, digits and . _ = + - only: " + name);
            }
            set = set == null ? List.of() : List.copyOf(set);
        }
    }

    public AblationSpec {
        if (base == null) throw new IllegalArgumentException("'base' is required: the run config the variants start from");
        seeds = seeds == null || seeds.isEmpty() ? List.of(1L) : List.copyOf(seeds);
        seedKeys = seedKeys == null || seedKeys.isEmpty() ? List.of("seed") : List.copyOf(seedKeys);
        set = set == null ? List.of() : List.copyOf(set);
        grid = grid == null ? new LinkedHashMap<>() : grid;
        variants = variants == null ? List.of() : List.copyOf(variants);
        if (grid.isEmpty() && variants.isEmpty()) {
            throw new IllegalArgumentException("an ablation needs 'grid' (key: [values]) or 'variants' (named override lists)");
        }
        for (Map.Entry<String, List<JsonNode>> e : grid.entrySet()) {
            if (e.getValue() == null || e.getValue().isEmpty()) {
                throw new IllegalArgumentException("grid." + e.getKey() + " needs a non-empty list of values");
            }
        }
        curves = curves == null || curves.isEmpty() ? DEFAULT_CURVES : List.copyOf(curves);
        if (parallel == null) parallel = Math.max(1, Runtime.getRuntime().availableProcessors() / 4);
        if (parallel < 1) throw new IllegalArgumentException("parallel must be ≥ 1, got " + parallel);
    }
}

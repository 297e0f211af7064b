package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.ImportanceSamplingLevel;
import io.r1kit.grpo.GrpoConfig.RolloutCorrection;
import java.util.Map;

/**
 * The mismatch between the policy that sampled the rollouts (its log-probs are kept with each
 * completion) and the trainer's recomputation of the same policy (the old log-probs): bf16 or FP8
 * rollouts, another device or engine. Per active token ρ_it = exp(old_it − sampling_it); at
 * {@code sequence} level ρ_i = exp(Σ_t (old_it − sampling_it)) (the product of the token ratios).
 * The correction weight of {@code rollout_correction} (TRL's {@code vllm_importance_sampling_*},
 * verl's rollout correction):
 * <pre>
 *   none: w = 1        tis: w = min(ρ, cap)        mask: w = 1 if ρ ≤ cap, else 0
 * </pre>
 * The statistics logged every step, whatever the setting, are over active tokens of the token
 * ratio ρ_it and of |old_it − sampling_it| ({@code sampling/importance_sampling_ratio/{min,mean,max}},
 * {@code sampling/sampling_logp_difference/{mean,max}}): exactly 1 and 0 when the sampler and the
 * trainer compute the same numbers.
 */
final class RolloutMismatch {
    double ratioMin = Double.POSITIVE_INFINITY, ratioMax = Double.NEGATIVE_INFINITY, ratioSum, diffSum, diffMax, tokens;

    /**
     * The weights [rows, T] of one micro-batch (null for {@code none}) and the statistics added up.
     *
     * @param old      trainer log-probs, row-major [rows, T]
     * @param sampling sampler log-probs placed the same way (0 outside completions)
     * @param mask     the completion mask (the statistics skip masked tokens; the weights are 1 there)
     */
    float[] weigh(float[] old, float[] sampling, float[] mask, int rows, int t, RolloutCorrection mode, ImportanceSamplingLevel level,
                  double cap) {
        float[] w = mode == RolloutCorrection.NONE ? null : new float[rows * t];
        for (int i = 0; i < rows; i++) {
            double seqLog = 0;
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                if (mask[k] == 0) continue;
                double d = (double) old[k] - sampling[k];
                double rho = Math.exp(d);
                ratioMin = Math.min(ratioMin, rho);
                ratioMax = Math.max(ratioMax, rho);
                ratioSum += rho;
                diffSum += Math.abs(d);
                diffMax = Math.max(diffMax, Math.abs(d));
                tokens++;
                seqLog += d;
            }
            if (w == null) continue;
            double seqRho = Math.exp(seqLog);
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                double rho = level == ImportanceSamplingLevel.SEQUENCE ? seqRho : Math.exp((double) old[k] - sampling[k]);
                w[k] = mask[k] == 0 ? 1f : (float) weight(rho, mode, cap);
            }
        }
        return w;
    }

    /** The correction weight of one ratio. */
    static double weight(double rho, RolloutCorrection mode, double cap) {
        return switch (mode) {
            case NONE -> 1.0;
            case TIS -> Math.min(rho, cap);
            case MASK -> rho <= cap ? 1.0 : 0.0;
        };
    }

    void putMetrics(Map<String, Object> m) {
        boolean any = tokens > 0;
        m.put("sampling/importance_sampling_ratio/min", any ? ratioMin : Double.NaN);
        m.put("sampling/importance_sampling_ratio/mean", any ? ratioSum / tokens : Double.NaN);
        m.put("sampling/importance_sampling_ratio/max", any ? ratioMax : Double.NaN);
        m.put("sampling/sampling_logp_difference/mean", any ? diffSum / tokens : Double.NaN);
        m.put("sampling/sampling_logp_difference/max", any ? diffMax : Double.NaN);
    }
}

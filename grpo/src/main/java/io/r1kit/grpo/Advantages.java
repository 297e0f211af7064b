package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.AdvantageEstimator;
import io.r1kit.grpo.GrpoConfig.ScaleRewards;

/**
 * Group-relative advantages: GRPO has no value model, the baseline of a completion is the mean
 * reward of the G completions sampled for the same prompt.
 *
 * <pre>
 *   group: A_i = (r_i − mean_g) / (std_g + 1e-4)     the GRPO paper (DeepSeekMath eq. 3)
 *   batch: A_i = (r_i − mean_g) / (std_batch + 1e-4)  one scale for the whole batch
 *   none:  A_i =  r_i − mean_g                        Dr. GRPO: no per-question std bias
 * </pre>
 * std is the unbiased (n − 1) sample standard deviation, as {@code torch.std} in TRL. A group whose
 * rewards all agree (std ≤ {@link #ZERO_STD_ATOL}) gets A = 0 for every completion in every mode.
 * Rewards are laid out group by group: {@code rewards[g·G + j]} is completion j of prompt g.
 *
 * <p>An <em>unscorable</em> completion (every reward returned null for it: a reward that threw or
 * timed out) carries no information about the policy: it is left out of its group's mean and std and
 * of the batch std, and its advantage is 0, so an infrastructure failure never becomes learning
 * signal. Means and stds are then over the group's scorable completions.
 */
public final class Advantages {

    /** Added to the std so a near-constant group does not blow up (TRL's value). */
    public static final double STD_EPS = 1e-4;

    /**
     * A group whose std is at most this is a zero-std group (TRL's {@code torch.isclose(std, 0)}:
     * atol 1e-8): rewards equal up to rounding, such as {0.1, 0.1, 0.1}, carry no signal, and their
     * advantages are set to exactly 0 rather than rounding noise divided by 1e-4.
     */
    public static final double ZERO_STD_ATOL = 1e-8;

    private Advantages() {}

    /** Advantages for {@code rewards.length / groupSize} groups of {@code groupSize}. */
    public static float[] compute(double[] rewards, int groupSize, ScaleRewards mode) {
        return compute(rewards, new boolean[rewards.length], groupSize, mode);
    }

    /** As {@link #compute(double[], int, ScaleRewards)}; rows marked {@code unscorable} are left out and get 0. */
    public static float[] compute(double[] rewards, boolean[] unscorable, int groupSize, ScaleRewards mode) {
        checkShape(rewards, unscorable, groupSize);
        for (int i = 0; i < rewards.length; i++) {
            if (!unscorable[i] && !Double.isFinite(rewards[i])) throw new IllegalArgumentException("advantages: reward " + i + " is " + rewards[i]);
        }
        int groups = rewards.length / groupSize;
        float[] adv = new float[rewards.length];
        double batchStd = std(rewards, unscorable, 0, rewards.length);
        for (int g = 0; g < groups; g++) {
            int off = g * groupSize;
            double mean = mean(rewards, unscorable, off, groupSize);
            double scale = switch (mode) {
                case GROUP -> std(rewards, unscorable, off, groupSize) + STD_EPS;
                case BATCH -> batchStd + STD_EPS;
                case NONE -> 1.0;
            };
            boolean zeroStd = std(rewards, unscorable, off, groupSize) <= ZERO_STD_ATOL;
            for (int j = 0; j < groupSize; j++) {
                adv[off + j] = unscorable[off + j] || zeroStd ? 0f : (float) ((rewards[off + j] - mean) / scale);
            }
        }
        return adv;
    }

    /**
     * The advantages of {@code advantage_estimator} (unscorable rows get 0 and are left out of every
     * statistic; a group whose scorable rewards agree within {@link #ZERO_STD_ATOL} gets 0):
     * <pre>
     *   grpo:                  {@link #compute} with scale_rewards
     *   rloo:                  A_i = r_i − mean_{j ≠ i} r_j                       (Ahmadian et al. 2024, arXiv:2402.14740)
     *   reinforce_pp:          A_i = (r_i − μ) / sqrt(σ² + 1e-8)                 (REINFORCE++, arXiv:2501.03262)
     *   reinforce_pp_baseline: s_i = r_i − mean_g;  A_i = (s_i − μ_s) / sqrt(σ_s² + 1e-8)
     * </pre>
     * where μ and σ² are the mean and unbiased variance over the batch's active TOKENS (each
     * completion weighted by its {@code lengths[i]} tokens, verl's {@code masked_whiten}), as the
     * return of every token of a completion is its reward.
     *
     * @param lengths active (trained) tokens of each completion
     */
    public static float[] estimate(double[] rewards, boolean[] unscorable, int[] lengths, int groupSize, AdvantageEstimator estimator,
                                   ScaleRewards mode) {
        checkShape(rewards, unscorable, groupSize);
        if (lengths.length != rewards.length) throw new IllegalArgumentException("advantages: " + lengths.length + " lengths for " + rewards.length + " rewards");
        if (estimator == AdvantageEstimator.GRPO) return compute(rewards, unscorable, groupSize, mode);
        if (estimator == AdvantageEstimator.RLOO && groupSize < 2) {
            throw new IllegalArgumentException("advantage_estimator rloo needs at least 2 completions per prompt (num_generations): the "
                    + "leave-one-out baseline of a single completion is undefined, got " + groupSize);
        }
        for (int i = 0; i < rewards.length; i++) {
            if (!unscorable[i] && !Double.isFinite(rewards[i])) throw new IllegalArgumentException("advantages: reward " + i + " is " + rewards[i]);
        }
        int n = rewards.length;
        double[] score = new double[n];
        boolean[] zero = zeroStdGroups(rewards, unscorable, groupSize);
        for (int g = 0; g < n / groupSize; g++) {
            int off = g * groupSize, k = 0;
            double sum = 0;
            for (int j = off; j < off + groupSize; j++) {
                if (unscorable[j]) continue;
                sum += rewards[j];
                k++;
            }
            for (int j = off; j < off + groupSize; j++) {
                if (unscorable[j] || zero[g]) continue;
                score[j] = switch (estimator) {
                    case RLOO -> rewards[j] - (sum - rewards[j]) / (k - 1);
                    case REINFORCE_PP -> rewards[j];
                    case REINFORCE_PP_BASELINE -> rewards[j] - sum / k;
                    case GRPO -> throw new IllegalStateException();
                };
            }
        }
        float[] adv = new float[n];
        if (estimator == AdvantageEstimator.RLOO) {
            for (int i = 0; i < n; i++) adv[i] = (float) score[i];
            return adv;
        }
        // token-weighted whitening over the batch's scorable completions
        double w = 0, sum = 0;
        for (int i = 0; i < n; i++) {
            if (unscorable[i]) continue;
            w += lengths[i];
            sum += lengths[i] * score[i];
        }
        if (w == 0) return adv;
        double mean = sum / w, ss = 0;
        for (int i = 0; i < n; i++) if (!unscorable[i]) ss += lengths[i] * (score[i] - mean) * (score[i] - mean);
        double var = w > 1 ? ss / (w - 1) : 0;
        double inv = 1 / Math.sqrt(var + 1e-8);
        for (int i = 0; i < n; i++) adv[i] = unscorable[i] ? 0f : (float) ((score[i] - mean) * inv);
        return adv;
    }

    /**
     * REINFORCE++ with the KL in the reward (Hu et al. 2025, arXiv:2501.03262): per-token advantages.
     * Token t of completion i is rewarded r_it = −β · kl_it, plus the outcome score s_i at its last
     * token; its return is the reward-to-go G_it = Σ_{u ≥ t} r_iu (γ = 1); the returns of all active
     * tokens of the batch are whitened together:
     * <pre>
     *   A_it = (G_it − μ) / sqrt(σ² + 1e-8)     μ, σ²: mean and unbiased variance over the batch's active tokens
     * </pre>
     * This is verl's {@code apply_kl_penalty} (token_level_rewards = token_level_scores − β · kld) followed by
     * {@code compute_reinforce_plus_plus_outcome_advantage} (reversed cumulative sum, {@code masked_whiten},
     * advantages times the response mask), and OpenRLHF's {@code compute_reward} + {@code get_cumulative_returns}
     * for {@code reinforce} (OpenRLHF whitens with the biased variance; verl's unbiased one is used here, as in
     * {@link #estimate}). The outcome score follows {@link #estimate}'s rule for reinforce_pp: s_i = r_i, or 0 in a
     * group whose scorable rewards agree within {@link #ZERO_STD_ATOL}; so with every kl_it = 0 the advantages are
     * {@link #estimate}'s, constant over each completion. Unscorable and masked completions are left out of μ and σ²
     * and get 0 on every token.
     *
     * @param kl     per completion, the KL of each of its tokens (its length is the completion's token count)
     * @param masked completions whose tokens do not train (mask_truncated_completions)
     * @return per completion, the advantage of each of its tokens
     */
    public static float[][] reinforcePpTokens(double[] rewards, boolean[] unscorable, boolean[] masked, double[][] kl, int groupSize,
                                              double beta) {
        checkShape(rewards, unscorable, groupSize);
        int n = rewards.length;
        if (masked.length != n || kl.length != n) {
            throw new IllegalArgumentException("advantages: " + masked.length + " mask flags and " + kl.length + " KL rows for " + n + " rewards");
        }
        if (!(beta >= 0)) throw new IllegalArgumentException("advantages: beta must be ≥ 0, got " + beta);
        for (int i = 0; i < n; i++) {
            if (!unscorable[i] && !Double.isFinite(rewards[i])) throw new IllegalArgumentException("advantages: reward " + i + " is " + rewards[i]);
        }
        boolean[] zero = zeroStdGroups(rewards, unscorable, groupSize);
        double[][] ret = new double[n][];
        double w = 0, sum = 0;
        for (int i = 0; i < n; i++) {
            int len = kl[i].length;
            ret[i] = new double[len];
            if (unscorable[i] || masked[i]) continue;
            double running = zero[i / groupSize] ? 0 : rewards[i];
            for (int t = len - 1; t >= 0; t--) {
                if (!Double.isFinite(kl[i][t])) throw new IllegalArgumentException("advantages: KL of completion " + i + " token " + t + " is " + kl[i][t]);
                running -= beta * kl[i][t];
                ret[i][t] = running;
                sum += running;
            }
            w += len;
        }
        float[][] adv = new float[n][];
        for (int i = 0; i < n; i++) adv[i] = new float[ret[i].length];
        if (w == 0) return adv;
        double mean = sum / w, ss = 0;
        for (int i = 0; i < n; i++) {
            if (unscorable[i] || masked[i]) continue;
            for (double g : ret[i]) ss += (g - mean) * (g - mean);
        }
        double var = w > 1 ? ss / (w - 1) : 0;
        double inv = 1 / Math.sqrt(var + 1e-8);
        for (int i = 0; i < n; i++) {
            if (unscorable[i] || masked[i]) continue;
            for (int t = 0; t < ret[i].length; t++) adv[i][t] = (float) ((ret[i][t] - mean) * inv);
        }
        return adv;
    }

    /**
     * {@code multi_objective_aggregation: normalize_then_sum} (GDPO, group reward-decoupled normalisation): each reward
     * f is normalised within its group over the completions it scored, (v_f − mean_g,f) /
     * (std_g,f + 1e-4), then weighted and summed; a null value adds nothing. The result is the
     * reward the advantage estimator then reads.
     *
     * @param values [completion][reward function], null where a reward did not score
     */
    public static double[] normalizeThenSum(Double[][] values, double[] weights, int groupSize) {
        int n = values.length;
        double[] out = new double[n];
        for (int f = 0; f < weights.length; f++) {
            double[] v = new double[n];
            boolean[] missing = new boolean[n];
            for (int i = 0; i < n; i++) {
                missing[i] = values[i][f] == null;
                v[i] = missing[i] ? 0 : values[i][f];
            }
            for (int off = 0; off < n; off += groupSize) {
                double mean = mean(v, missing, off, groupSize), sd = std(v, missing, off, groupSize);
                for (int j = off; j < off + groupSize; j++) if (!missing[j]) out[j] += weights[f] * (v[j] - mean) / (sd + STD_EPS);
            }
        }
        return out;
    }

    /** True for each group whose rewards all agree (std ≤ {@link #ZERO_STD_ATOL}): such a group carries no learning signal. */
    public static boolean[] zeroStdGroups(double[] rewards, int groupSize) {
        return zeroStdGroups(rewards, new boolean[rewards.length], groupSize);
    }

    /** As {@link #zeroStdGroups(double[], int)} over each group's scorable rows (fewer than two: true). */
    public static boolean[] zeroStdGroups(double[] rewards, boolean[] unscorable, int groupSize) {
        checkShape(rewards, unscorable, groupSize);
        boolean[] out = new boolean[rewards.length / groupSize];
        for (int g = 0; g < out.length; g++) out[g] = std(rewards, unscorable, g * groupSize, groupSize) <= ZERO_STD_ATOL;
        return out;
    }

    private static void checkShape(double[] rewards, boolean[] unscorable, int groupSize) {
        if (groupSize < 1 || rewards.length % groupSize != 0) {
            throw new IllegalArgumentException("advantages: " + rewards.length + " rewards do not split into groups of " + groupSize);
        }
        if (unscorable.length != rewards.length) {
            throw new IllegalArgumentException("advantages: " + unscorable.length + " unscorable flags for " + rewards.length + " rewards");
        }
    }

    /** Mean of the scorable values in [off, off + n) (NaN when there are none). */
    static double mean(double[] x, boolean[] skip, int off, int n) {
        double s = 0;
        int k = 0;
        for (int i = off; i < off + n; i++) {
            if (skip[i]) continue;
            s += x[i];
            k++;
        }
        return k == 0 ? Double.NaN : s / k;
    }

    /** Unbiased sample std of the scorable values in [off, off + n) (0 for fewer than two). */
    static double std(double[] x, boolean[] skip, int off, int n) {
        double m = mean(x, skip, off, n), ss = 0;
        int k = 0;
        for (int i = off; i < off + n; i++) {
            if (skip[i]) continue;
            ss += (x[i] - m) * (x[i] - m);
            k++;
        }
        return k < 2 ? 0 : Math.sqrt(ss / (k - 1));
    }
}

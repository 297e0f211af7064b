package io.r1kit.grpo;

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
 * rewards all agree gets A = 0 for every completion in every mode (its numerator is exactly 0).
 * Rewards are laid out group by group: {@code rewards[g·G + j]} is completion j of prompt g.
 */
public final class Advantages {

    /** Added to the std so a near-constant group does not blow up (TRL's value). */
    public static final double STD_EPS = 1e-4;

    private Advantages() {}

    /** Advantages for {@code rewards.length / groupSize} groups of {@code groupSize}. */
    public static float[] compute(double[] rewards, int groupSize, ScaleRewards mode) {
        if (groupSize < 1 || rewards.length % groupSize != 0) {
            throw new IllegalArgumentException("advantages: " + rewards.length + " rewards do not split into groups of " + groupSize);
        }
        for (int i = 0; i < rewards.length; i++) {
            if (!Double.isFinite(rewards[i])) throw new IllegalArgumentException("advantages: reward " + i + " is " + rewards[i]);
        }
        int groups = rewards.length / groupSize;
        float[] adv = new float[rewards.length];
        double batchStd = std(rewards, 0, rewards.length);
        for (int g = 0; g < groups; g++) {
            int off = g * groupSize;
            double mean = mean(rewards, off, groupSize);
            double scale = switch (mode) {
                case GROUP -> std(rewards, off, groupSize) + STD_EPS;
                case BATCH -> batchStd + STD_EPS;
                case NONE -> 1.0;
            };
            for (int j = 0; j < groupSize; j++) adv[off + j] = (float) ((rewards[off + j] - mean) / scale);
        }
        return adv;
    }

    /** True for each group whose rewards all agree (std = 0): such a group carries no learning signal. */
    public static boolean[] zeroStdGroups(double[] rewards, int groupSize) {
        boolean[] out = new boolean[rewards.length / groupSize];
        for (int g = 0; g < out.length; g++) {
            boolean same = true;
            for (int j = 1; j < groupSize && same; j++) same = rewards[g * groupSize + j] == rewards[g * groupSize];
            out[g] = same;
        }
        return out;
    }

    static double mean(double[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s / n;
    }

    /** Unbiased sample std (0 for n = 1). */
    static double std(double[] x, int off, int n) {
        if (n < 2) return 0;
        double m = mean(x, off, n), ss = 0;
        for (int i = 0; i < n; i++) ss += (x[off + i] - m) * (x[off + i] - m);
        return Math.sqrt(ss / (n - 1));
    }
}

package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig.ScaleRewards;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdvantagesTest {

    // two groups of 3: rewards {1, 0, 0} and {1, 1, 4}
    static final double[] R = {1, 0, 0, 1, 1, 4};

    @Test
    void groupScaling() {
        // group 0: mean 1/3, std (unbiased) = sqrt(((2/3)^2 + 2·(1/3)^2) / 2) = sqrt(1/3)
        // group 1: mean 2, std = sqrt((1 + 1 + 4) / 2) = sqrt(3)
        double s0 = Math.sqrt(1.0 / 3) + 1e-4, s1 = Math.sqrt(3) + 1e-4;
        float[] expected = {(float) ((2.0 / 3) / s0), (float) ((-1.0 / 3) / s0), (float) ((-1.0 / 3) / s0),
                (float) (-1 / s1), (float) (-1 / s1), (float) (2 / s1)};
        assertArrayEquals(expected, Advantages.compute(R, 3, ScaleRewards.GROUP), 1e-6f);
    }

    @Test
    void batchScaling() {
        // batch: mean 7/6, Σ(r − mean)² = 3·(1/6)² + 2·(7/6)² + (17/6)² = (3 + 98 + 289)/36 = 390/36; std = sqrt(390/36/5)
        double s = Math.sqrt(390.0 / 36 / 5) + 1e-4;
        float[] expected = {(float) ((2.0 / 3) / s), (float) ((-1.0 / 3) / s), (float) ((-1.0 / 3) / s),
                (float) (-1 / s), (float) (-1 / s), (float) (2 / s)};
        assertArrayEquals(expected, Advantages.compute(R, 3, ScaleRewards.BATCH), 1e-6f);
    }

    @Test
    void noScalingIsDrGrpo() {
        float[] expected = {2f / 3, -1f / 3, -1f / 3, -1, -1, 2};
        assertArrayEquals(expected, Advantages.compute(R, 3, ScaleRewards.NONE), 1e-6f);
    }

    @Test
    void zeroStdGroupGivesZeroAdvantagesInEveryMode() {
        double[] r = {0.7, 0.7, 0.7, 0.7, 1, 0, 1, 0};
        for (ScaleRewards mode : ScaleRewards.values()) {
            float[] a = Advantages.compute(r, 4, mode);
            for (int i = 0; i < 4; i++) assertEquals(0f, a[i], 0f, mode + ": completion " + i);
            // the other group still learns: its advantages sum to zero and are not all zero
            assertEquals(0, a[4] + a[5] + a[6] + a[7], 1e-6, mode.toString());
            assertEquals(true, a[4] > 0 && a[5] < 0, mode.toString());
        }
        assertArrayEquals(new boolean[] {true, false}, Advantages.zeroStdGroups(r, 4));
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Advantages.compute(new double[5], 2, ScaleRewards.GROUP));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Advantages.compute(new double[] {1, Double.NaN}, 2, ScaleRewards.GROUP));
        assertEquals("advantages: reward 1 is NaN", e.getMessage());
    }

    /**
     * Rewards equal up to rounding ({0.1, 0.1, 0.1} has a mean of 0.10000000000000002; 0.1 + 0.2 is
     * not 0.3) form a zero-std group as TRL's isclose(std, 0) decides: advantages exactly 0 in every
     * mode, and the group counts in frac_reward_zero_std / dynamic sampling's all-equal test.
     */
    @Test
    void nearlyEqualRewardsAreAZeroStdGroup() {
        double[] r = {0.1, 0.1, 0.1, 0.1 + 0.2, 0.3, 0.3};
        for (ScaleRewards mode : ScaleRewards.values()) {
            float[] a = Advantages.compute(r, 3, mode);
            for (int i = 0; i < r.length; i++) assertEquals(0f, a[i], 0f, mode + ": completion " + i);
        }
        assertArrayEquals(new boolean[] {true, true}, Advantages.zeroStdGroups(r, 3));
    }

    /** Unscorable rows are left out: of {1, x, 0} with x unscorable the mean is 1/2, std sqrt(1/2). */
    @Test
    void unscorableRowsAreLeftOutAndGetZero() {
        double[] r = {1, 0, 0, 5, 5, 2};
        boolean[] u = {false, true, false, false, false, true};
        float[] a = Advantages.compute(r, u, 3, ScaleRewards.GROUP);
        double s = Math.sqrt(0.5) + 1e-4;
        assertArrayEquals(new float[] {(float) (0.5 / s), 0, (float) (-0.5 / s), 0, 0, 0}, a, 1e-6f);
        assertArrayEquals(new boolean[] {false, true}, Advantages.zeroStdGroups(r, u, 3));
    }

    // ---- advantage_estimator against references written from the papers (per-token lists for REINFORCE++) ----

    static final double[] R8 = {1, 0, 0.5, 0, 2, 2, 1, 0};
    static final int[] LEN = {3, 1, 2, 4, 2, 5, 1, 3};

    @Test
    void rlooIsLeaveOneOutMean() {
        float[] a = Advantages.estimate(R8, new boolean[8], LEN, 4, GrpoConfig.AdvantageEstimator.RLOO, ScaleRewards.GROUP);
        for (int i = 0; i < 8; i++) {
            int g = i / 4;
            double others = 0;
            for (int j = g * 4; j < g * 4 + 4; j++) if (j != i) others += R8[j];
            assertEquals(R8[i] - others / 3, a[i], 1e-6, "completion " + i);
        }
        var e = assertThrows(IllegalArgumentException.class,
                () -> Advantages.estimate(new double[] {1, 0}, new boolean[2], new int[] {1, 1}, 1, GrpoConfig.AdvantageEstimator.RLOO,
                        ScaleRewards.GROUP));
        assertTrue(e.getMessage().contains("rloo needs at least 2 completions per prompt"), e.getMessage());
    }

    /** REINFORCE++: every token's return is its completion's reward; whitened over all tokens of the batch. */
    @Test
    void reinforcePlusPlusWhitensOverTokens() {
        for (boolean baseline : new boolean[] {false, true}) {
            List<Double> tokens = new ArrayList<>();
            double[] score = new double[8];
            for (int i = 0; i < 8; i++) {
                double groupMean = 0;
                for (int j = (i / 4) * 4; j < (i / 4) * 4 + 4; j++) groupMean += R8[j] / 4;
                score[i] = baseline ? R8[i] - groupMean : R8[i];
                for (int t = 0; t < LEN[i]; t++) tokens.add(score[i]);
            }
            double mean = tokens.stream().mapToDouble(x -> x).average().orElseThrow(), ss = 0;
            for (double x : tokens) ss += (x - mean) * (x - mean);
            double sd = Math.sqrt(ss / (tokens.size() - 1) + 1e-8);
            float[] a = Advantages.estimate(R8, new boolean[8], LEN, 4,
                    baseline ? GrpoConfig.AdvantageEstimator.REINFORCE_PP_BASELINE : GrpoConfig.AdvantageEstimator.REINFORCE_PP, ScaleRewards.GROUP);
            for (int i = 0; i < 8; i++) assertEquals((score[i] - mean) / sd, a[i], 1e-6, (baseline ? "baseline " : "") + i);
        }
    }

    /**
     * REINFORCE++ with the KL in the reward, from the paper's formula: token rewards r_it = −β kl_it
     * plus the outcome reward on the last token, returns Σ_{u ≥ t} r_iu written as an explicit sum,
     * whitened over the active tokens of the batch (unbiased variance + 1e-8, as verl's masked_whiten).
     */
    static double[][] reinforcePpReference(double[] rewards, boolean[] excluded, double[][] kl, double beta) {
        int n = rewards.length;
        double[][] ret = new double[n][];
        List<Double> active = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = kl[i].length;
            double[] tokenReward = new double[len];
            for (int t = 0; t < len; t++) tokenReward[t] = -beta * kl[i][t] + (t == len - 1 ? rewards[i] : 0);
            ret[i] = new double[len];
            for (int t = 0; t < len; t++) {
                for (int u = t; u < len; u++) ret[i][t] += tokenReward[u];
                if (!excluded[i]) active.add(ret[i][t]);
            }
        }
        double mean = active.stream().mapToDouble(x -> x).average().orElse(0), ss = 0;
        for (double x : active) ss += (x - mean) * (x - mean);
        double sd = Math.sqrt((active.size() > 1 ? ss / (active.size() - 1) : 0) + 1e-8);
        double[][] adv = new double[n][];
        for (int i = 0; i < n; i++) {
            adv[i] = new double[ret[i].length];
            for (int t = 0; t < ret[i].length; t++) adv[i][t] = excluded[i] ? 0 : (ret[i][t] - mean) / sd;
        }
        return adv;
    }

    static double[][] randomKl(long seed, int[] lengths) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        double[][] kl = new double[lengths.length][];
        for (int i = 0; i < lengths.length; i++) {
            kl[i] = new double[lengths[i]];
            for (int t = 0; t < lengths[i]; t++) kl[i][t] = 0.5 * rnd.nextDouble();
        }
        return kl;
    }

    /** Tolerance 1e-6: float32 rounding of O(1) advantages computed in double. */
    @Test
    void reinforcePlusPlusWithTheKlInTheRewardIsPerTokenRewardToGoWhitened() {
        double[][] kl = randomKl(5, LEN);
        float[][] a = Advantages.reinforcePpTokens(R8, new boolean[8], new boolean[8], kl, 4, 0.3);
        double[][] ref = reinforcePpReference(R8, new boolean[8], kl, 0.3);
        for (int i = 0; i < 8; i++) {
            assertEquals(LEN[i], a[i].length);
            for (int t = 0; t < LEN[i]; t++) assertEquals(ref[i][t], a[i][t], 1e-6, i + "," + t);
            // the KL penalty accumulates backwards: an earlier token's return carries every later token's penalty
            for (int t = 1; t < LEN[i]; t++) assertTrue(a[i][t - 1] < a[i][t], "return-to-go decreases towards the start, " + i);
        }
    }

    /** With no KL the per-token advantages are the per-completion REINFORCE++ ones on every token. */
    @Test
    void reinforcePlusPlusTokensWithoutKlAreTheSequenceAdvantages() {
        float[] seq = Advantages.estimate(R8, new boolean[8], LEN, 4, GrpoConfig.AdvantageEstimator.REINFORCE_PP, ScaleRewards.GROUP);
        float[][] tok = Advantages.reinforcePpTokens(R8, new boolean[8], new boolean[8], randomKl(6, LEN), 4, 0.0);
        for (int i = 0; i < 8; i++) for (float v : tok[i]) assertEquals(seq[i], v, 1e-6, "completion " + i);
    }

    /** Masked (truncated) and unscorable completions get 0 on every token and are left out of the whitening; a zero-std group's outcome is 0. */
    @Test
    void reinforcePlusPlusTokensLeaveOutMaskedAndUnscorableRows() {
        double[] r = {1, 0, 1, 0, 0.5, 0.5, 0.5, 0.5};
        boolean[] masked = {false, true, false, false, false, false, false, false};
        boolean[] unscorable = {false, false, false, true, false, false, false, false};
        double[][] kl = randomKl(7, LEN);
        float[][] a = Advantages.reinforcePpTokens(r, unscorable, masked, kl, 4, 0.2);
        boolean[] excluded = {false, true, false, true, false, false, false, false};
        double[] outcome = {1, 0, 1, 0, 0, 0, 0, 0};   // group 2 agrees: no outcome signal, only the KL penalty
        double[][] ref = reinforcePpReference(outcome, excluded, kl, 0.2);
        for (int i = 0; i < 8; i++) for (int t = 0; t < LEN[i]; t++) assertEquals(ref[i][t], a[i][t], 1e-6, i + "," + t);
        for (float v : a[1]) assertEquals(0f, v, 0f);
        for (float v : a[3]) assertEquals(0f, v, 0f);
        // every row left out: nothing to whiten, all 0
        boolean[] all = new boolean[8];
        java.util.Arrays.fill(all, true);
        for (float[] row : Advantages.reinforcePpTokens(r, new boolean[8], all, kl, 4, 0.2)) for (float v : row) assertEquals(0f, v, 0f);
        assertThrows(IllegalArgumentException.class, () -> Advantages.reinforcePpTokens(r, unscorable, masked, new double[3][], 4, 0.2));
        double[][] bad = randomKl(7, LEN);
        bad[2][0] = Double.NaN;
        assertThrows(IllegalArgumentException.class, () -> Advantages.reinforcePpTokens(r, unscorable, masked, bad, 4, 0.2));
    }

    @Test
    void estimatorsGiveZeroToZeroStdGroupsAndUnscorableRows() {
        double[] r = {0.1, 0.1, 0.1, 1, 0, 1};
        boolean[] u = {false, false, false, false, true, false};
        for (GrpoConfig.AdvantageEstimator e : List.of(GrpoConfig.AdvantageEstimator.RLOO, GrpoConfig.AdvantageEstimator.REINFORCE_PP_BASELINE)) {
            float[] a = Advantages.estimate(r, u, new int[] {2, 2, 2, 2, 2, 2}, 3, e, ScaleRewards.GROUP);
            for (int i = 0; i < 6; i++) assertEquals(0f, a[i], 0f, e + " " + i);
        }
    }

    /** GDPO: each reward normalised in its group (over the completions it scored), then weighted and summed. */
    @Test
    void normalizeThenSum() {
        Double[][] v = {{1.0, 0.0}, {0.0, 0.0}, {1.0, null}, {0.0, 1.0}};
        double[] w = {1.0, 0.5};
        double[] out = Advantages.normalizeThenSum(v, w, 4);
        double m0 = 0.5, s0 = Math.sqrt((0.25 * 4) / 3) + 1e-4;               // reward 0: {1, 0, 1, 0}
        double m1 = 1.0 / 3, s1 = Math.sqrt(((1.0 / 9) * 2 + 4.0 / 9) / 2) + 1e-4;   // reward 1: {0, 0, 1}, the null left out
        double[] expected = {(1 - m0) / s0 + 0.5 * (0 - m1) / s1, (0 - m0) / s0 + 0.5 * (0 - m1) / s1, (1 - m0) / s0,
                (0 - m0) / s0 + 0.5 * (1 - m1) / s1};
        for (int i = 0; i < 4; i++) assertEquals(expected[i], out[i], 1e-12, "completion " + i);
    }
}

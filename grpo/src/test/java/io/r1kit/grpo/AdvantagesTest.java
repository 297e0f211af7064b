package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.r1kit.grpo.GrpoConfig.ScaleRewards;
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
}

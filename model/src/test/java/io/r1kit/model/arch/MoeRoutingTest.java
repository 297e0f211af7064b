package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.r1kit.model.hf.DeepseekV3Params;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** DeepSeek-V3 expert choice against hand-worked cases (group mask, ties, bias) and a sort-based plain reference. */
class MoeRoutingTest {
    static DeepseekV3Params params(int E, int groups, int topkGroup, int k) {
        return new DeepseekV3Params(0, 4, 2, 2, 2, false, E, 0, k, groups, topkGroup, 1.0, true, 0, 4, 0, 0);
    }

    @Test
    void groupMaskDropsTheBestExpertWhenItsGroupLoses() {
        // groups (top-2 sums): g0 0.96, g1 1.2, g2 1.1, g3 0.2 → keep g1, g2; expert 0 (0.95) is masked out;
        // ties (0.6, 0.6) and (0.55, 0.55) go to the lower index
        float[] s = {0.95f, 0.01f, 0.6f, 0.6f, 0.55f, 0.55f, 0.1f, 0.1f};
        assertArrayEquals(new int[] {2, 3, 4}, MoeRouting.topk(s, new float[8], 1, params(8, 4, 2, 3)));
    }

    @Test
    void biasChoosesButAllTiesGoToLowerIndices() {
        float[] s = new float[8];
        java.util.Arrays.fill(s, 0.5f);
        assertArrayEquals(new int[] {0, 1, 2}, MoeRouting.topk(s, new float[8], 1, params(8, 4, 2, 3)), "all equal: lowest indices");
        float[] bias = {0, 0, 0, 0, 0, 0, 0.2f, 0.1f};
        assertArrayEquals(new int[] {6, 7, 0}, MoeRouting.topk(s, bias, 1, params(8, 4, 2, 3)), "the bias lifts group 3");
    }

    @Test
    void maskedExpertsScoreZeroAsInTransformers() {
        // the kept group's choice scores are negative (bias), so the masked experts' 0.0 beats them
        float[] s = {0.1f, 0.1f, 0.05f, 0.05f};
        float[] bias = {-0.5f, -0.5f, -0.9f, -0.9f};
        assertArrayEquals(new int[] {2, 3}, MoeRouting.topk(s, bias, 1, params(4, 2, 1, 2)));
    }

    @Test
    void matchesTheSortingReferenceWithManyTies() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int groups = 1 + r.nextInt(4), per = 2 + r.nextInt(3), E = groups * per;
            int kg = 1 + r.nextInt(groups), k = 1 + r.nextInt(kg * per);
            DeepseekV3Params d = params(E, groups, kg, k);
            int N = 5;
            float[] s = new float[N * E], bias = new float[E];
            for (int i = 0; i < s.length; i++) s[i] = r.nextInt(5) / 8f;                  // coarse values: many ties
            for (int e = 0; e < E; e++) bias[e] = (r.nextInt(5) - 2) / 8f;
            TorchDeepseekV3 ref = new TorchDeepseekV3(null, null);
            ref.E = E; ref.nGroup = groups; ref.topkGroup = kg; ref.topK = k;
            double[] sd = new double[s.length];
            for (int i = 0; i < s.length; i++) sd[i] = s[i];
            int[][] want = ref.choose(sd, bias, N);
            int[] got = MoeRouting.topk(s, bias, N, d);
            for (int n = 0; n < N; n++) {
                int[] row = java.util.Arrays.copyOfRange(got, n * k, (n + 1) * k);
                assertArrayEquals(want[n], row, "trial " + trial + " token " + n);
            }
        }
    }
}

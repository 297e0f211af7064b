package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sampler on a hand-made distribution: empirical frequencies, truncation sets, selection. */
class SamplerTest {
    // probabilities 0.4, 0.25, 0.15, 0.1, 0.06, 0.04 (as logits), shuffled over ids
    static final int[] IDS = {3, 0, 5, 1, 4, 2};
    static final double[] P = {0.4, 0.25, 0.15, 0.1, 0.06, 0.04};

    static float[] logits() {
        float[] l = new float[6];
        for (int i = 0; i < 6; i++) l[IDS[i]] = (float) Math.log(P[i]) + 3f;
        return l;
    }

    static double[] freqs(SamplingParams sp, int draws, float[] lpOut) {
        Sampler s = new Sampler(6);
        SplittableRandom r = new SplittableRandom(5);
        double[] f = new double[6];
        float[] lp = new float[1];
        for (int i = 0; i < draws; i++) {
            int t = s.sample(logits(), 0, sp, r, lp, 0);
            f[t] += 1.0 / draws;
            lpOut[t] = lp[0];
        }
        return f;
    }

    /** 4σ of a binomial frequency estimate with 40k draws is ≤ 0.01. */
    static final double FREQ_TOL = 0.01;

    @Test
    void topPKeepsTheNucleusAndRenormalises() {
        float[] lp = new float[6];
        double[] f = freqs(SamplingParams.sample(1f, 1, 0).withTopP(0.75f), 40000, lp);
        // 0.4 + 0.25 = 0.65 < 0.75, so the third (0.15) crosses and is kept; mass 0.8
        double[] expect = new double[6];
        for (int i = 0; i < 3; i++) expect[IDS[i]] = P[i] / 0.8;
        for (int v = 0; v < 6; v++) assertEquals(expect[v], f[v], FREQ_TOL, "token " + v);
        assertEquals(Math.log(0.4 / 0.8), lp[IDS[0]], 1e-5);
    }

    @Test
    void topKAndMinP() {
        float[] lp = new float[6];
        double[] f = freqs(SamplingParams.sample(1f, 1, 0).withTopK(2), 40000, lp);
        assertEquals(0.4 / 0.65, f[IDS[0]], FREQ_TOL);
        assertEquals(0.25 / 0.65, f[IDS[1]], FREQ_TOL);
        assertEquals(0, f[IDS[2]]);
        // min-p 0.3: keep p >= 0.12 -> 0.4, 0.25, 0.15
        f = freqs(SamplingParams.sample(1f, 1, 0).withMinP(0.3f), 40000, lp);
        assertEquals(0.15 / 0.8, f[IDS[2]], FREQ_TOL);
        assertEquals(0, f[IDS[3]]);
    }

    @Test
    void temperatureAndModes() {
        float[] lp = new float[6];
        // T = 0.5 squares the probabilities (then renormalises)
        double z = 0;
        for (double p : P) z += p * p;
        double[] f = freqs(SamplingParams.sample(0.5f, 1, 0), 40000, lp);
        for (int i = 0; i < 6; i++) assertEquals(P[i] * P[i] / z, f[IDS[i]], FREQ_TOL);
        assertEquals(Math.log(P[0] * P[0] / z), lp[IDS[0]], 1e-5);
        freqs(SamplingParams.sample(0.5f, 1, 0).withLogprobMode(LogprobMode.RAW), 2000, lp);
        assertEquals(Math.log(P[0]), lp[IDS[0]], 1e-5);
        // TEMPERATURE ignores truncation
        freqs(SamplingParams.sample(0.5f, 1, 0).withTopK(1).withLogprobMode(LogprobMode.TEMPERATURE), 200, lp);
        assertEquals(Math.log(P[0] * P[0] / z), lp[IDS[0]], 1e-5);
        // PROCESSED with top-k 1 is certain
        freqs(SamplingParams.sample(0.5f, 1, 0).withTopK(1), 200, lp);
        assertEquals(0, lp[IDS[0]], 1e-6);
    }

    @Test
    void kthLargestOnAwkwardSizes() {
        SplittableRandom r = new SplittableRandom(1);
        for (int n : new int[] {1, 2, 7, 33, 129, 1000}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = r.nextInt(20) - 10;   // many ties
            float[] sorted = a.clone();
            Arrays.sort(sorted);
            for (int k : new int[] {1, 2, n / 2 + 1, n}) {
                if (k < 1 || k > n) continue;
                assertEquals(sorted[n - k], Sampler.kthLargest(a.clone(), n, k), "n=" + n + " k=" + k);
            }
        }
    }
}

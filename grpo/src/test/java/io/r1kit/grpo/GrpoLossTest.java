package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.grpo.GrpoLoss.Result;
import io.r1kit.grpo.GrpoLoss.Scale;
import io.r1kit.grpo.GrpoLoss.Settings;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The GRPO loss on hand-computed cases (values and d loss / d logp), the k3 KL, clip counts, and
 * a finite-difference check of every loss_type against a double-precision scalar reference.
 * Tolerance 1e-6 on hand cases: float32 arithmetic on numbers of order 1 (exp of ln 1.5 is
 * 1.5 within 1 ulp); 2e-5 against finite differences: float32 loss vs double reference.
 */
class GrpoLossTest {

    static Settings settings(LossType type, double beta) {
        return new Settings(type, 0.2, 0.28, beta, 4);
    }

    static Tensor leaf(float[] data, int... shape) {
        return Tensor.of(data, shape).requiresGrad(true);
    }

    // ---- ratio = 1 (on-policy, num_iterations = 1): ℓ_it = −A_i on every active token ----
    // A = [2, −1], mask [[1,1,0],[1,0,0]] → token losses seq0: −2, −2; seq1: +1. N = 2, L = 4.
    static final float[] LOGP = {-1f, -2f, -0.5f, -0.3f, -1.2f, -2f};
    static final float[] MASK = {1, 1, 0, 1, 0, 0};
    static final float[] ADV = {2, -1};

    static Result onPolicy(LossType type, Tensor logp) {
        return GrpoLoss.compute(logp, null, null, ADV, Tensor.of(MASK, 2, 3), settings(type, 0), Scale.whole(Tensor.of(MASK, 2, 3)));
    }

    @Test
    void grpoIsPerSequenceTokenMeanThenBatchMean() {
        Tensor logp = leaf(LOGP, 2, 3);
        Result r = onPolicy(LossType.GRPO, logp);
        // (mean(−2, −2) + mean(1)) / 2 = −0.5; d/dlogp_it = −A_i / (|o_i| · N)
        assertEquals(-0.5f, r.loss().item(), 1e-6f);
        r.loss().backward();
        assertArrayEquals(new float[] {-0.5f, -0.5f, 0, 0.5f, 0, 0}, logp.gradData(), 1e-6f);
    }

    @Test
    void bnpoIsTokenMeanOfTheBatch() {
        Tensor logp = leaf(LOGP, 2, 3);
        Result r = onPolicy(LossType.BNPO, logp);
        // (−2 − 2 + 1) / 3 = −1; d/dlogp = −A_i / 3
        assertEquals(-1f, r.loss().item(), 1e-6f);
        r.loss().backward();
        assertArrayEquals(new float[] {-2f / 3, -2f / 3, 0, 1f / 3, 0, 0}, logp.gradData(), 1e-6f);
    }

    @Test
    void drGrpoDividesByBatchTimesMaxCompletionLength() {
        Tensor logp = leaf(LOGP, 2, 3);
        Result r = onPolicy(LossType.DR_GRPO, logp);
        // −3 / (2 · 4) = −0.375; d/dlogp = −A_i / 8
        assertEquals(-0.375f, r.loss().item(), 1e-6f);
        r.loss().backward();
        assertArrayEquals(new float[] {-0.25f, -0.25f, 0, 0.125f, 0, 0}, logp.gradData(), 1e-6f);
    }

    @Test
    void dapoDividesByActiveTokensOfTheWholeMiniBatch() {
        Tensor logp = leaf(LOGP, 2, 3);
        Result r = onPolicy(LossType.DAPO, logp);
        assertEquals(-1f, r.loss().item(), 1e-6f);
        // as a micro-batch of a mini-batch with 12 active tokens: −3 / 12
        Tensor logp2 = leaf(LOGP, 2, 3);
        Result part = GrpoLoss.compute(logp2, null, null, ADV, Tensor.of(MASK, 2, 3), settings(LossType.DAPO, 0),
                new Scale(8, 12, 4));
        assertEquals(-0.25f, part.loss().item(), 1e-6f);
        part.loss().backward();
        assertArrayEquals(new float[] {-2f / 12, -2f / 12, 0, 1f / 12, 0, 0}, logp2.gradData(), 1e-6f);
    }

    @Test
    void bnpoMicroBatchIsItsOwnTokenMeanOverMicroBatches() {
        Tensor logp = leaf(LOGP, 2, 3);
        Result part = GrpoLoss.compute(logp, null, null, ADV, Tensor.of(MASK, 2, 3), settings(LossType.BNPO, 0),
                new Scale(8, 12, 4));
        assertEquals(-0.25f, part.loss().item(), 1e-6f);   // (−3 / 3 local tokens) / 4 micro-batches
    }

    // ---- clipping: A = [1, −1], ratios seq0 [1.5, 0.5], seq1 [0.5, 1.5], ε_low 0.2, ε_high 0.28 ----
    //  seq0 tok0: min(1.5, 1.28) = 1.28 → clipped high, no gradient
    //  seq0 tok1: min(0.5, 0.8)  = 0.5  → not clipped (A > 0), d(−surr)/dlogp = −A·r = −0.5
    //  seq1 tok0: min(−0.5, −0.8) = −0.8 → clipped low, no gradient
    //  seq1 tok1: min(−1.5, −1.28) = −1.5 → not clipped (A < 0), d/dlogp = −A·r = 1.5
    @Test
    void clippedSurrogateValuesGradientsAndClipCounts() {
        float l15 = (float) Math.log(1.5), l05 = (float) Math.log(0.5);
        float[] old = {-1f, -2f, -0.5f, -0.7f};
        float[] lp = {old[0] + l15, old[1] + l05, old[2] + l05, old[3] + l15};
        float[] ones = {1, 1, 1, 1};
        Tensor logp = leaf(lp, 2, 2);
        Result r = GrpoLoss.compute(logp, Tensor.of(old, 2, 2), null, new float[] {1, -1}, Tensor.of(ones, 2, 2),
                settings(LossType.GRPO, 0), Scale.whole(Tensor.of(ones, 2, 2)));
        // per-token ℓ: −1.28, −0.5, 0.8, 1.5 → seq means −0.89, 1.15 → 0.13
        assertEquals(0.13f, r.loss().item(), 1e-6f);
        r.loss().backward();
        assertArrayEquals(new float[] {0, -0.5f / 4, 0, 1.5f / 4}, logp.gradData(), 1e-6f);
        assertEquals(4, r.activeTokens());
        assertEquals(0.25, r.lowClipRatio(), 0);
        assertEquals(0.25, r.highClipRatio(), 0);
        assertEquals(0.5, r.regionClipRatio(), 0);
    }

    @Test
    void clipCountsIgnoreMaskedTokens() {
        float l15 = (float) Math.log(1.5);
        float[] old = {0, 0, 0, 0};
        Tensor logp = leaf(new float[] {l15, l15, l15, l15}, 2, 2);
        float[] mask = {1, 0, 0, 0};
        Result r = GrpoLoss.compute(logp, Tensor.of(old, 2, 2), null, new float[] {1, 1}, Tensor.of(mask, 2, 2),
                settings(LossType.BNPO, 0), Scale.whole(Tensor.of(mask, 2, 2)));
        assertEquals(1, r.activeTokens());
        assertEquals(1.0, r.highClipRatio(), 0);
        assertEquals(0.0, r.lowClipRatio(), 0);
    }

    // ---- k3 KL ----
    @Test
    void k3IsNonNegativeAndExactlyZeroWhenPolicyEqualsReference() {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] lp = new float[1000], ref = new float[1000];
        for (int i = 0; i < lp.length; i++) {
            lp[i] = (float) (-10 * rnd.nextDouble());
            ref[i] = (float) (-10 * rnd.nextDouble());
        }
        for (float v : GrpoLoss.k3(lp, ref)) assertTrue(v >= 0, "k3 = " + v);
        for (float v : GrpoLoss.k3(lp, lp)) assertEquals(0f, v, 0f);

        // through the loss: ref == logp gives kl exactly 0 and a loss equal to the β = 0 loss
        Tensor logp = leaf(LOGP, 2, 3);
        Tensor mask = Tensor.of(MASK, 2, 3);
        Result r = GrpoLoss.compute(logp, null, Tensor.of(LOGP, 2, 3), ADV, mask, settings(LossType.GRPO, 0.5), Scale.whole(mask));
        assertEquals(0.0, r.kl(), 0);
        assertEquals(-0.5f, r.loss().item(), 0f);
    }

    @Test
    void klTermValueAndGradient() {
        // one token, A = 0, ref − logp = ln 2: kl = 2 − ln 2 − 1, d kl / d logp = 1 − exp(ref − logp) = −1
        float lp = -1f, ref = lp + (float) Math.log(2);
        Tensor logp = leaf(new float[] {lp}, 1, 1);
        Tensor mask = Tensor.of(new float[] {1}, 1, 1);
        Result r = GrpoLoss.compute(logp, null, Tensor.of(new float[] {ref}, 1, 1), new float[] {0}, mask,
                settings(LossType.GRPO, 0.1), Scale.whole(mask));
        double kl = 1 - Math.log(2);
        assertEquals(0.1 * kl, r.loss().item(), 1e-6);
        assertEquals(kl, r.kl(), 1e-6);
        r.loss().backward();
        assertEquals(-0.1f, logp.gradData()[0], 1e-6f);
    }

    @Test
    void zeroAdvantageGroupGivesNoPolicyGradient() {
        float[] adv = Advantages.compute(new double[] {1, 1, 1, 1}, 4, GrpoConfig.ScaleRewards.GROUP);
        Tensor logp = leaf(new float[] {-1, -2, -3, -4, -5, -6, -7, -8}, 4, 2);
        Tensor mask = Tensor.ones(4, 2);
        Result r = GrpoLoss.compute(logp, null, null, adv, mask, settings(LossType.GRPO, 0), Scale.whole(mask));
        assertEquals(0f, r.loss().item(), 0f);
        r.loss().backward();
        for (float g : logp.gradData()) assertEquals(0f, g, 0f);
    }

    @Test
    void micrBatchesSumToTheWholeMiniBatchLoss() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 6, t = 5;
        float[] lp = new float[n * t], old = new float[n * t], mask = new float[n * t], adv = new float[n];
        fill(rnd, lp, old, mask, adv, n, t);
        for (LossType type : List.of(LossType.GRPO, LossType.DR_GRPO, LossType.DAPO)) {
            Tensor whole = leaf(lp, n, t);
            Tensor m = Tensor.of(mask, n, t);
            Result all = GrpoLoss.compute(whole, Tensor.of(old, n, t), null, adv, m, settings(type, 0), Scale.whole(m));
            all.loss().backward();
            Scale scale = new Scale(n, GrpoLoss.sum(mask), 2);
            double summed = 0;
            float[] grad = new float[n * t];
            for (int half = 0; half < 2; half++) {
                int r0 = half * 3;
                Tensor part = leaf(java.util.Arrays.copyOfRange(lp, r0 * t, (r0 + 3) * t), 3, t);
                Result res = GrpoLoss.compute(part, Tensor.of(java.util.Arrays.copyOfRange(old, r0 * t, (r0 + 3) * t), 3, t), null,
                        java.util.Arrays.copyOfRange(adv, r0, r0 + 3), Tensor.of(java.util.Arrays.copyOfRange(mask, r0 * t, (r0 + 3) * t), 3, t),
                        settings(type, 0), scale);
                summed += res.loss().item();
                res.loss().backward();
                System.arraycopy(part.gradData(), 0, grad, r0 * t, 3 * t);
            }
            assertEquals(all.loss().item(), summed, 1e-6, type.toString());
            assertArrayEquals(whole.gradData(), grad, 1e-6f, type.toString());
        }
    }

    // ---- finite differences against a double-precision reference, every loss_type, with KL ----
    @Test
    void gradientMatchesFiniteDifferencesOfAScalarReference() {
        SplittableRandom rnd = new SplittableRandom(11);
        int n = 4, t = 6;
        float[] lp = new float[n * t], old = new float[n * t], mask = new float[n * t], adv = new float[n];
        float[] ref = new float[n * t];
        fill(rnd, lp, old, mask, adv, n, t);
        for (int i = 0; i < ref.length; i++) ref[i] = lp[i] + (float) (rnd.nextDouble() - 0.5);
        for (LossType type : List.of(LossType.GRPO, LossType.BNPO, LossType.DR_GRPO, LossType.DAPO)) {   // cispo: GrpoLossVariantsTest
            Settings s = settings(type, 0.05);
            Tensor logp = leaf(lp, n, t);
            Tensor m = Tensor.of(mask, n, t);
            Result r = GrpoLoss.compute(logp, Tensor.of(old, n, t), Tensor.of(ref, n, t), adv, m, s, Scale.whole(m));
            double[] x = toDouble(lp);
            assertEquals(reference(x, old, ref, adv, mask, n, t, s), r.loss().item(), 2e-5, type + " loss");
            r.loss().backward();
            double h = 1e-6;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + h;
                double up = reference(x, old, ref, adv, mask, n, t, s);
                x[i] = keep - h;
                double down = reference(x, old, ref, adv, mask, n, t, s);
                x[i] = keep;
                assertEquals((up - down) / (2 * h), logp.gradData()[i], 2e-5, type + " d loss / d logp[" + i + "]");
            }
        }
    }

    /** Straight from the formulas in GrpoLoss's class comment, in double. */
    static double reference(double[] lp, float[] old, float[] ref, float[] adv, float[] mask, int n, int t, Settings s) {
        double total = 0, active = 0;
        double[] seqSum = new double[n], seqTok = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                double ratio = Math.exp(lp[k] - old[k]);
                double clipped = Math.min(Math.max(ratio, 1 - s.epsilonLow()), 1 + s.epsilonHigh());
                double d = ref[k] - lp[k];
                double l = -Math.min(ratio * adv[i], clipped * adv[i]) + s.beta() * (Math.exp(d) - d - 1);
                seqSum[i] += l * mask[k];
                seqTok[i] += mask[k];
            }
            total += seqSum[i];
            active += seqTok[i];
        }
        return switch (s.lossType()) {
            case GRPO -> {
                double m = 0;
                for (int i = 0; i < n; i++) m += seqTok[i] == 0 ? 0 : seqSum[i] / seqTok[i];
                yield m / n;
            }
            case BNPO, DAPO -> total / Math.max(1, active);
            case DR_GRPO -> total / (n * (double) s.maxCompletionLength());
            case CISPO -> throw new IllegalArgumentException("see GrpoLossVariantsTest");
        };
    }

    /** Log-ratios kept at least 0.02 away from the clip boundaries so finite differences never straddle a kink. */
    static void fill(SplittableRandom rnd, float[] lp, float[] old, float[] mask, float[] adv, int n, int t) {
        for (int i = 0; i < n; i++) {
            adv[i] = (float) (rnd.nextDouble() * 2 - 1);
            int len = 1 + rnd.nextInt(t);
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                old[k] = (float) (-3 * rnd.nextDouble());
                double ratio;
                do {
                    ratio = 0.5 + rnd.nextDouble();
                } while (Math.abs(ratio - 0.8) < 0.02 || Math.abs(ratio - 1.28) < 0.02);
                lp[k] = old[k] + (float) Math.log(ratio);
                mask[k] = j < len ? 1 : 0;
            }
        }
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}

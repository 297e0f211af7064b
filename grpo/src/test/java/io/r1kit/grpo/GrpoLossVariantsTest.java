package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig.ImportanceSamplingLevel;
import io.r1kit.grpo.GrpoConfig.KlEstimator;
import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.grpo.GrpoLoss.Result;
import io.r1kit.grpo.GrpoLoss.Scale;
import io.r1kit.grpo.GrpoLoss.Settings;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * GSPO, CISPO, two-sided clipping (delta), the four KL estimators, the entropy mask and bonus and
 * rollout-correction weights, each against an independent double-precision reference written from
 * the papers' formulas (below, not from GrpoLoss), with gradients checked by central finite
 * differences of the reference. Tolerances: 2e-5 absolute on the loss and on each gradient entry
 * (float32 arithmetic on O(1) numbers against double; h = 1e-6 central differences of a smooth
 * function away from clip kinks: truncation error ~1e-12).
 */
class GrpoLossVariantsTest {
    static final int N = 4, T = 6;
    static final double TOL = 2e-5;

    /** The inputs of one case; lp is varied by the finite differences; adv has N values (per completion) or N·T (per token). */
    record Case(float[] lp, float[] old, float[] ref, float[] adv, float[] mask, float[] ent, float[] w) {}

    static Case randomCase(long seed, boolean kinkFree) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] lp = new float[N * T], old = new float[N * T], ref = new float[N * T], mask = new float[N * T], ent = new float[N * T];
        float[] adv = new float[N], w = new float[N * T];
        GrpoLossTest.fill(rnd, lp, old, mask, adv, N, T);
        for (int i = 0; i < ref.length; i++) {
            ref[i] = lp[i] + (float) (rnd.nextDouble() - 0.5);
            ent[i] = (float) (3 * rnd.nextDouble());
            w[i] = (float) (0.5 + rnd.nextDouble());
        }
        mask[T] = 0;   // row 1 keeps at least one token (fill gives ≥ 1), row 3 is all masked below
        for (int j = 0; j < T; j++) mask[3 * T + j] = 0;
        return new Case(lp, old, ref, adv, mask, ent, w);
    }

    static Settings settings(LossType type, ImportanceSamplingLevel level, KlEstimator kl, double beta, double delta, double q, double cH) {
        return new Settings(type, 0.2, type == LossType.CISPO ? 1.3 : 0.28, beta, 8, level, kl, delta, q, cH);
    }

    // ------------------------------------------------------------------ the reference, from the papers

    /** The objective in double, written from the formulas (GSPO eq. 5–7, MiniMax-M1 eq. 4, Schulman's k1/k2/k3, verl's clamps). */
    static double reference(double[] lp, Case c, Settings s, boolean withWeights) {
        double[] ratio = new double[N * T];
        for (int i = 0; i < N; i++) {
            double sum = 0, cnt = 0;
            for (int j = 0; j < T; j++) {
                sum += (lp[i * T + j] - c.old[i * T + j]) * c.mask[i * T + j];
                cnt += c.mask[i * T + j];
            }
            for (int j = 0; j < T; j++) {
                int k = i * T + j;
                ratio[k] = s.level() == ImportanceSamplingLevel.SEQUENCE ? Math.exp(cnt == 0 ? 0 : sum / cnt) : Math.exp(lp[k] - c.old[k]);
            }
        }
        double threshold = Double.NEGATIVE_INFINITY;
        if (s.topEntropyQuantile() < 1) {
            List<Double> active = new ArrayList<>();
            for (int k = 0; k < N * T; k++) if (c.mask[k] != 0) active.add((double) c.ent[k]);
            active.sort(null);
            double pos = (1 - s.topEntropyQuantile()) * (active.size() - 1);
            int lo = (int) Math.floor(pos);
            threshold = lo + 1 < active.size() ? active.get(lo) + (pos - lo) * (active.get(lo + 1) - active.get(lo)) : active.get(lo);
        }
        double[] seqSum = new double[N], seqTok = new double[N];
        double total = 0, activeTokens = 0;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < T; j++) {
                int k = i * T + j;
                double a = c.adv.length == N ? c.adv[i] : c.adv[k], r = ratio[k], surr;
                if (s.lossType() == LossType.CISPO) {
                    surr = Math.min(r, s.epsilonHigh()) * a * lp[k];   // the weight is a constant for the gradient: see cispoGradient
                } else {
                    double unclipped = Double.isNaN(s.delta()) ? r : Math.min(r, s.delta());
                    surr = Math.min(unclipped * a, Math.max(1 - s.epsilonLow(), Math.min(1 + s.epsilonHigh(), r)) * a);
                }
                double l = -surr;
                if (c.ent[k] < threshold) l = 0;
                if (withWeights) l *= c.w[k];
                if (s.beta() > 0) l += s.beta() * kl(lp[k], c.ref[k], s.klEstimator());
                l -= s.entropyCoef() * c.ent[k];
                seqSum[i] += l * c.mask[k];
                seqTok[i] += c.mask[k];
            }
            total += seqSum[i];
            activeTokens += seqTok[i];
        }
        return switch (s.lossType()) {
            case GRPO -> {
                double m = 0;
                for (int i = 0; i < N; i++) m += seqTok[i] == 0 ? 0 : seqSum[i] / seqTok[i];
                yield m / N;
            }
            case BNPO, DAPO, CISPO -> total / Math.max(1, activeTokens);
            case DR_GRPO -> total / (N * (double) s.maxCompletionLength());
        };
    }

    /** Schulman, "Approximating KL divergence" (2020): k1 = −log r, k2 = ½ (log r)², k3 = (r − 1) − log r with r = π_ref / π. */
    static double kl(double lp, double ref, KlEstimator e) {
        double logr = ref - lp;
        return switch (e) {
            case K1 -> -logr;
            case K2 -> 0.5 * logr * logr;
            case K3 -> Math.exp(logr) - 1 - logr;
            case LOW_VAR_KL -> Math.max(-10, Math.min(10, Math.exp(Math.max(-20, Math.min(20, logr))) - 1 - Math.max(-20, Math.min(20, logr))));
        };
    }

    // ------------------------------------------------------------------ the check

    static void check(Case c, Settings s, boolean withWeights, String what) {
        Tensor logp = Tensor.of(c.lp, N, T).requiresGrad(true);
        Tensor mask = Tensor.of(c.mask, N, T);
        Tensor ent = Tensor.of(c.ent, N, T);
        Result r = GrpoLoss.compute(logp, Tensor.of(c.old, N, T), Tensor.of(c.ref, N, T), Tensor.of(c.adv, N, c.adv.length / N), mask,
                GrpoLoss.sum(c.mask), s.needsEntropy() ? ent : null, withWeights ? Tensor.of(c.w, N, T) : null, s, Scale.whole(mask));
        double[] x = GrpoLossTest.toDouble(c.lp);
        assertEquals(reference(x, c, s, withWeights), r.loss().item(), TOL, what + " loss");
        assertTrue(Float.isFinite(r.lossValue()), what);
        r.loss().backward();
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double expected;
            if (s.lossType() == LossType.CISPO) {
                expected = cispoGradient(x, c, s, withWeights, i);
            } else {
                double keep = x[i];
                x[i] = keep + h;
                double up = reference(x, c, s, withWeights);
                x[i] = keep - h;
                double down = reference(x, c, s, withWeights);
                x[i] = keep;
                expected = (up - down) / (2 * h);
            }
            assertEquals(expected, logp.gradData()[i], TOL, what + ": d loss / d logp[" + i + "]");
        }
    }

    /**
     * CISPO's gradient: the clipped weight is a stop-gradient constant, so d/dlogp_k is the finite
     * difference of the reference with the weights frozen at their value at x.
     */
    static double cispoGradient(double[] x, Case c, Settings s, boolean withWeights, int k) {
        double[] frozenOld = new double[x.length];
        for (int i = 0; i < x.length; i++) frozenOld[i] = x[i];
        double h = 1e-6;
        double[] up = x.clone(), down = x.clone();
        up[k] += h;
        down[k] -= h;
        return (frozen(up, frozenOld, c, s, withWeights) - frozen(down, frozenOld, c, s, withWeights)) / (2 * h);
    }

    /** The CISPO loss with the IS weights taken at {@code weightsAt} (log-probs) and the log-probs lp. */
    static double frozen(double[] lp, double[] weightsAt, Case c, Settings s, boolean withWeights) {
        double total = 0, active = 0;
        for (int i = 0; i < N; i++) {
            double sum = 0, cnt = 0;
            for (int j = 0; j < T; j++) {
                sum += (weightsAt[i * T + j] - c.old[i * T + j]) * c.mask[i * T + j];
                cnt += c.mask[i * T + j];
            }
            for (int j = 0; j < T; j++) {
                int k = i * T + j;
                double r = s.level() == ImportanceSamplingLevel.SEQUENCE ? Math.exp(cnt == 0 ? 0 : sum / cnt) : Math.exp(weightsAt[k] - c.old[k]);
                double l = -Math.min(r, s.epsilonHigh()) * (c.adv.length == N ? c.adv[i] : c.adv[k]) * lp[k] * (withWeights ? c.w[k] : 1);
                if (s.beta() > 0) l += s.beta() * kl(lp[k], c.ref[k], s.klEstimator());
                total += l * c.mask[k];
                active += c.mask[k];
            }
        }
        return total / Math.max(1, active);
    }

    @Test
    void gspoSequenceLevelRatiosEveryLossType() {
        Case c = randomCase(11, true);
        for (LossType type : List.of(LossType.GRPO, LossType.BNPO, LossType.DR_GRPO, LossType.DAPO)) {
            check(c, settings(type, ImportanceSamplingLevel.SEQUENCE, KlEstimator.K3, 0.05, Double.NaN, 1, 0), false, "gspo " + type);
            check(c, settings(type, ImportanceSamplingLevel.SEQUENCE, KlEstimator.K3, 0, Double.NaN, 1, 0), false, "gspo β = 0 " + type);
        }
    }

    @Test
    void cispoTokenAndSequence() {
        Case c = randomCase(12, false);
        for (ImportanceSamplingLevel level : ImportanceSamplingLevel.values()) {
            check(c, settings(LossType.CISPO, level, KlEstimator.K3, 0.0, Double.NaN, 1, 0), false, "cispo " + level);
        }
        // ratios above the cap: the weight is clamped, the token still has a gradient (unlike the clipped PPO surrogate)
        float[] old = {0, 0}, lp = {(float) Math.log(2.0), (float) Math.log(0.5)};
        Tensor x = Tensor.of(lp, 1, 2).requiresGrad(true);
        Tensor mask = Tensor.of(new float[] {1, 1}, 1, 2);
        Result r = GrpoLoss.compute(x, Tensor.of(old, 1, 2), null, Tensor.of(new float[] {1}, 1, 1), mask, 2, null, null,
                settings(LossType.CISPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, Double.NaN, 1, 0), Scale.whole(mask));
        r.loss().backward();
        assertEquals(-1.3 / 2, x.gradData()[0], 1e-6, "weight min(2, 1.3) / 2 tokens");
        assertEquals(-0.5 / 2, x.gradData()[1], 1e-6, "weight 0.5 / 2 tokens");
        assertEquals(0.5, r.highClipRatio(), 0);
    }

    @Test
    void twoSidedClippingBoundsTheRatioOfNegativeAdvantages() {
        Case c = randomCase(13, true);
        check(c, settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, 1.35, 1, 0), false, "delta");
        // a ratio of 3 with A = −1: the loss is min(3, δ)·1 = δ, and no gradient past δ
        Tensor x = Tensor.of(new float[] {(float) Math.log(3)}, 1, 1).requiresGrad(true);
        Tensor mask = Tensor.of(new float[] {1}, 1, 1);
        Result r = GrpoLoss.compute(x, Tensor.of(new float[] {0}, 1, 1), null, Tensor.of(new float[] {-1}, 1, 1), mask, 1, null, null,
                settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, 2.0, 1, 0), Scale.whole(mask));
        assertEquals(2.0, r.loss().item(), 1e-6);
        r.loss().backward();
        assertEquals(0f, x.gradData()[0], 0f);
        assertThrows(IllegalArgumentException.class,
                () -> settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, 1.2, 1, 0), "delta ≤ 1 + ε_high");
    }

    @Test
    void everyKlEstimator() {
        Case c = randomCase(14, true);
        for (KlEstimator e : KlEstimator.values()) {
            check(c, settings(LossType.BNPO, ImportanceSamplingLevel.TOKEN, e, 0.3, Double.NaN, 1, 0), false, "kl " + e);
        }
        // low_var_kl clamps where k3 does not: ref − logp = 25 → k3 = e^25 − 26, low_var_kl = 10
        assertEquals(Math.exp(25) - 26, GrpoLoss.kl(0, 25, KlEstimator.K3), 1);
        assertEquals(10, GrpoLoss.kl(0, 25, KlEstimator.LOW_VAR_KL), 0);
        assertEquals(-2, GrpoLoss.kl(-3, -1, KlEstimator.K1), 1e-12);
        assertEquals(2, GrpoLoss.kl(-3, -1, KlEstimator.K2), 1e-12);
    }

    @Test
    void entropyMaskAndBonus() {
        Case c = randomCase(15, true);
        for (double q : new double[] {0.2, 0.5, 0.9}) {
            check(c, settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, Double.NaN, q, 0), false, "top entropy " + q);
        }
        check(c, settings(LossType.DAPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, Double.NaN, 1, 0.01), false, "entropy bonus");
        // the bonus's gradient reaches the entropy: d loss / d H = −c_H · m / Σ m (dapo)
        Tensor h = Tensor.of(c.ent(), N, T).requiresGrad(true);
        Tensor mask = Tensor.of(c.mask(), N, T);
        Result r = GrpoLoss.compute(Tensor.of(c.lp(), N, T).requiresGrad(true), null, null, Tensor.of(c.adv(), N, 1), mask,
                GrpoLoss.sum(c.mask()), h, null, settings(LossType.DAPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, Double.NaN, 1, 0.5),
                Scale.whole(mask));
        r.loss().backward();
        double active = GrpoLoss.sum(c.mask());
        for (int k = 0; k < N * T; k++) assertEquals(-0.5 * c.mask()[k] / active, h.gradData()[k], 1e-7);
        assertEquals(2.5, GrpoLoss.quantile(new double[] {4, 1, 3, 2}, 0.5), 0, "linear interpolation, as torch.quantile");
    }

    @Test
    void rolloutCorrectionWeights() {
        Case c = randomCase(16, true);
        check(c, settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0.1, Double.NaN, 1, 0), true, "weights");
        check(c, settings(LossType.CISPO, ImportanceSamplingLevel.SEQUENCE, KlEstimator.K3, 0, Double.NaN, 1, 0), true, "cispo weights");
    }

    /** Per-token advantages A_it ([N, T], REINFORCE++ with the KL in the reward) in every loss type and ratio level, row 3 all masked. */
    @Test
    void perTokenAdvantagesEveryLossTypeAndLevel() {
        Case base = randomCase(17, true);
        SplittableRandom rnd = new SplittableRandom(23);
        float[] adv = new float[N * T];
        for (int k = 0; k < adv.length; k++) adv[k] = (float) (2 * rnd.nextDouble() - 1);
        Case c = new Case(base.lp(), base.old(), base.ref(), adv, base.mask(), base.ent(), base.w());
        for (ImportanceSamplingLevel level : ImportanceSamplingLevel.values()) {
            for (LossType type : LossType.values()) {
                check(c, settings(type, level, KlEstimator.K3, 0, Double.NaN, 1, 0), false, "per-token " + type + " " + level);
            }
        }
        // with per-token advantages equal along each row, the loss is the per-completion one
        float[] rows = new float[N * T];
        for (int k = 0; k < rows.length; k++) rows[k] = base.adv()[k / T];
        Settings s = settings(LossType.GRPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0.1, Double.NaN, 1, 0);
        Tensor mask = Tensor.of(base.mask(), N, T);
        float perCompletion = GrpoLoss.compute(Tensor.of(base.lp(), N, T), Tensor.of(base.old(), N, T), Tensor.of(base.ref(), N, T),
                Tensor.of(base.adv(), N, 1), mask, GrpoLoss.sum(base.mask()), null, null, s, Scale.whole(mask)).loss().item();
        float perToken = GrpoLoss.compute(Tensor.of(base.lp(), N, T), Tensor.of(base.old(), N, T), Tensor.of(base.ref(), N, T),
                Tensor.of(rows, N, T), mask, GrpoLoss.sum(base.mask()), null, null, s, Scale.whole(mask)).loss().item();
        assertEquals(perCompletion, perToken, 0f);
    }

    @Test
    void allMaskedRowsContributeNothingAndRatiosAtTheClipBounds() {
        // row 3 of every random case is all masked: covered above. Ratios exactly at 1 − ε and 1 + ε: the clamp passes
        // the gradient (inclusive, as torch), and both min() operands are equal, each getting half.
        float lo = (float) Math.log(0.8), hi = (float) Math.log(1.28);
        Tensor x = Tensor.of(new float[] {lo, hi}, 2, 1).requiresGrad(true);
        Tensor mask = Tensor.of(new float[] {1, 1}, 2, 1);
        Result r = GrpoLoss.compute(x, Tensor.of(new float[] {0, 0}, 2, 1), null, Tensor.of(new float[] {-1, 1}, 2, 1), mask, 2, null,
                null, settings(LossType.BNPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K3, 0, Double.NaN, 1, 0), Scale.whole(mask));
        assertEquals((0.8 - 1.28) / 2, r.loss().item(), 1e-6);
        r.loss().backward();
        assertEquals(0.8 / 2, x.gradData()[0], 1e-6);
        assertEquals(-1.28 / 2, x.gradData()[1], 1e-6);
        assertEquals(0, r.lowClipRatio(), 0, "at the bound is not past it");
    }
}

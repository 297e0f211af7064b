package io.r1kit.grpo.ppo;

import io.r1kit.model.ops.F;
import io.r1kit.model.ops.MaskedSums;
import io.r1kit.model.tensor.Tensor;

/**
 * The PPO objective with a learned value (Schulman et al. 2017; TRL's PPOTrainer), over the active
 * tokens of a mini-batch (Σ m = {@code miniBatchTokens}; micro-batch losses sum to the mini-batch's):
 * <pre>
 *   ratio_t  = exp(logp_t − old_t)
 *   pg       = Σ_t m_t · −min(ratio_t·A_t, clip(ratio_t, 1 − ε, 1 + ε)·A_t) / Σ m
 *   V̂_t      = clip(V_t, Vold_t − ε_v, Vold_t + ε_v)                      (value clipping)
 *   vf       = Σ_t m_t · ½·max((V_t − R_t)², (V̂_t − R_t)²) / Σ m
 *   loss     = pg + vf_coef · vf
 * </pre>
 * with A the (whitened) GAE advantages and R the GAE returns. The metric sums run where the loss
 * runs ({@link MaskedSums}): a host loop in double, or device reductions read back with the loss and
 * its parts in one copy of 7 floats (sums in double rounded to fp32).
 */
public final class PpoLoss {
    private PpoLoss() {}

    /** The loss and its parts' sums for metrics (divide by the mini-batch tokens). */
    public record Result(Tensor loss, double pgLoss, double vfLoss, double clipped, double vfClipped, double activeTokens, double ratioSum,
                         float lossValue) {}

    /**
     * @param logp [N, T] with grad; old, adv, ret, oldValues [N, T] (no grad); values [N, T] with grad; mask [N, T]
     */
    public static Result compute(Tensor logp, Tensor old, Tensor adv, Tensor values, Tensor oldValues, Tensor ret, Tensor mask,
                                 double cliprange, double cliprangeValue, double vfCoef, double miniBatchTokens) {
        Tensor ratio = F.exp(F.sub(logp, old));
        Tensor clipped = F.clamp(ratio, (float) (1 - cliprange), (float) (1 + cliprange));
        Tensor pgTok = F.neg(F.minimum(F.mul(ratio, adv), F.mul(clipped, adv)));
        Tensor vClip = F.add(oldValues, F.clamp(F.sub(values, oldValues), (float) -cliprangeValue, (float) cliprangeValue));
        Tensor e1 = F.sub(values, ret), e2 = F.sub(vClip, ret);
        Tensor vfTok = F.scale(F.maximum(F.mul(e1, e1), F.mul(e2, e2)), 0.5f);
        float inv = (float) (1.0 / Math.max(1, miniBatchTokens));
        Tensor pg = F.scale(F.maskedSum(pgTok, mask), inv);
        Tensor vf = F.scale(F.maskedSum(vfTok, mask), inv);
        Tensor loss = F.add(pg, F.scale(vf, (float) vfCoef));

        double hiRatio = 1 + cliprange, loRatio = 1 - cliprange;
        // clip: ratio outside the range on the advantage's side; value clip: the clipped error is the larger
        double[] v = MaskedSums.over(mask, "ppo loss and metric sums")
                .value(loss).value(pg).value(vf)
                .sum((k, m, x) -> (x[0][k] > hiRatio && x[1][k] > 0) || (x[0][k] < loRatio && x[1][k] < 0) ? m : 0,
                        () -> F.maskedSum(F.add(F.mul(F.greaterThan(ratio, (float) hiRatio), F.greaterThan(adv, 0f)),
                                F.mul(F.lessThan(ratio, (float) loRatio), F.lessThan(adv, 0f))), mask), ratio, adv)
                .sum((k, m, x) -> x[1][k] * x[1][k] > x[0][k] * x[0][k] ? m : 0,
                        () -> F.maskedSum(F.greaterThan(F.sub(F.mul(e2, e2), F.mul(e1, e1)), 0f), mask), e1, e2)
                .sum((k, m, x) -> m, () -> F.sum(mask))
                .sum((k, m, x) -> x[0][k], () -> F.maskedSum(ratio, mask), ratio)
                .read();
        return new Result(loss, (float) v[1] / inv, (float) v[2] / inv, v[3], v[4], v[5], v[6], (float) v[0]);
    }
}

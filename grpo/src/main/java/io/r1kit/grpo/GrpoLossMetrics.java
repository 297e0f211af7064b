package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.KlEstimator;
import io.r1kit.model.ops.F;
import io.r1kit.model.ops.MaskedSums;
import io.r1kit.model.tensor.Tensor;

/**
 * The sums {@link GrpoLoss}'s metrics are made of, over active tokens (weighted by the mask): the
 * KL (of the configured estimator), the low- / high-clipped token counts as TRL counts them (ratio &lt; 1 − ε_low with A &lt; 0,
 * ratio &gt; 1 + ε_high with A &gt; 0; the two never hold at once, so region = low + high) and the
 * ratio, read back with the loss's value ({@link MaskedSums}). On the host a loop over the values
 * with sums in double; on a device masked reductions whose results come back with the loss in one
 * copy of a few floats, so no [N, T] tensor is ever read. Without a KL tensor but with a reference,
 * the KL is computed per token in double rounded to fp32 on the host, in fp32 tensor ops on a device.
 */
final class GrpoLossMetrics {
    private GrpoLossMetrics() {}

    record Sums(float loss, double kl, double low, double high, double ratio) {}

    /**
     * @param adv [N, 1] per completion or [N, T] per token
     * @param kl  the per-token KL of the loss, or null (then computed here when {@code refLogp} is given)
     */
    static Sums read(Tensor loss, Tensor ratio, Tensor kl, Tensor refLogp, Tensor logp, Tensor adv, Tensor mask, float lo, float hi,
                     KlEstimator estimator) {
        int t = ratio.dim(1);
        boolean perToken = adv.numel() == ratio.numel();
        MaskedSums sums = MaskedSums.over(mask, "grpo loss and metric sums")
                .value(loss)
                .sum((k, m, v) -> v[0][k] < lo && v[1][perToken ? k : k / t] < 0 ? m : 0,
                        () -> F.maskedSum(F.mul(F.lessThan(ratio, lo), F.lessThan(adv, 0f)), mask), ratio, adv)     // [N, T] · [N, 1]
                .sum((k, m, v) -> v[0][k] > hi && v[1][perToken ? k : k / t] > 0 ? m : 0,
                        () -> F.maskedSum(F.mul(F.greaterThan(ratio, hi), F.greaterThan(adv, 0f)), mask), ratio, adv)
                .sum((k, m, v) -> m * v[0][k], () -> F.maskedSum(ratio, mask), ratio);
        if (refLogp != null && kl != null) {
            sums.sum((k, m, v) -> m * v[0][k], () -> F.maskedSum(kl, mask), kl);
        } else if (refLogp != null) {
            sums.sum((k, m, v) -> m * (float) GrpoLoss.kl(v[0][k], v[1][k], estimator),
                    () -> F.maskedSum(GrpoLoss.kl(logp, refLogp, estimator), mask), logp, refLogp);
        }
        double[] v = sums.read();
        return new Sums((float) v[0], v.length > 4 ? v[4] : 0, v[1], v[2], v[3]);
    }
}

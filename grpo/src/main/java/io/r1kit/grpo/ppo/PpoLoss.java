package io.r1kit.grpo.ppo;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.autograd.Grad;

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
 * with A the (whitened) GAE advantages and R the GAE returns.
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

        if (logp.isOnDevice()) return onDevice(loss, pg, vf, ratio, adv, e1, e2, mask, cliprange, inv);
        float[] r = ratio.data(), m = mask.data(), a = adv.data(), d1 = e1.data(), d2 = e2.data();
        double clip = 0, vclip = 0, active = 0, ratioSum = 0;
        for (int i = 0; i < m.length; i++) {
            if (m[i] == 0) continue;
            active += m[i];
            ratioSum += r[i];
            if ((r[i] > 1 + cliprange && a[i] > 0) || (r[i] < 1 - cliprange && a[i] < 0)) clip += m[i];
            if (d2[i] * d2[i] > d1[i] * d1[i]) vclip += m[i];
        }
        return new Result(loss, pg.item() / inv, vf.item() / inv, clip, vclip, active, ratioSum, loss.item());
    }

    /**
     * The same sums by device reductions (clip: ratio outside the range on the advantage's side;
     * value clip: the clipped error is the larger), gathered with the loss and its parts into one
     * device vector and read back in one copy of 7 floats. Sums in double rounded to fp32.
     */
    private static Result onDevice(Tensor loss, Tensor pg, Tensor vf, Tensor ratio, Tensor adv, Tensor e1, Tensor e2, Tensor mask,
                                   double cliprange, float inv) {
        try (var ng = Grad.noGrad()) {
            Tensor high = F.mul(F.greaterThan(ratio, (float) (1 + cliprange)), F.greaterThan(adv, 0f));
            Tensor low = F.mul(F.lessThan(ratio, (float) (1 - cliprange)), F.lessThan(adv, 0f));
            Tensor vclip = F.greaterThan(F.sub(F.mul(e2, e2), F.mul(e1, e1)), 0f);
            Tensor all = F.concat(java.util.List.of(loss.detach().reshape(1), pg.detach().reshape(1), vf.detach().reshape(1),
                    F.maskedSum(F.add(high, low), mask).reshape(1), F.maskedSum(vclip, mask).reshape(1),
                    F.sum(mask).reshape(1), F.maskedSum(ratio, mask).reshape(1)), 0);
            float[] v = new float[7];
            all.device().read(all.deviceArray("ppo metrics"), 0, v, 0, 7, "ppo loss and metric sums [7]");
            return new Result(loss, v[1] / inv, v[2] / inv, v[3], v[4], v[5], v[6], v[0]);
        }
    }
}

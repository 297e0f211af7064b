package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.KlEstimator;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The sums {@link GrpoLoss}'s metrics are made of, over active tokens (weighted by the mask): the
 * KL (of the configured estimator), the low- / high-clipped token counts as TRL counts them (ratio &lt; 1 − ε_low with A &lt; 0,
 * ratio &gt; 1 + ε_high with A &gt; 0; the two never hold at once, so region = low + high) and the
 * ratio. On the host a loop over the values; on a device masked reductions whose results come back
 * with the loss in one copy of a few floats, so no [N, T] tensor is ever read.
 */
final class GrpoLossMetrics {
    private GrpoLossMetrics() {}

    record Sums(double kl, double low, double high, double ratio) {}

    /** The host loop (sums in double); kl null with a reference given = the k3 KL computed here in double. */
    static Sums onHost(Tensor ratio, Tensor kl, Tensor refLogp, Tensor logp, float[] adv, Tensor mask, float lo, float hi,
                       KlEstimator estimator) {
        int n = ratio.dim(0), t = ratio.dim(1);
        float[] r = ratio.data(), m = mask.data();
        float[] klv = null;
        if (refLogp != null) klv = kl != null ? kl.data() : GrpoLoss.kl(logp.data(), refLogp.data(), estimator);
        boolean perToken = adv.length == n * t;
        double klSum = 0, low = 0, high = 0, ratioSum = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < t; j++) {
                int k = i * t + j;
                if (m[k] == 0) continue;
                float ai = perToken ? adv[k] : adv[i];
                double w = m[k];
                if (r[k] < lo && ai < 0) low += w;
                if (r[k] > hi && ai > 0) high += w;
                ratioSum += w * r[k];
                if (klv != null) klSum += w * klv[k];
            }
        }
        return new Sums(klSum, low, high, ratioSum);
    }

    /**
     * The same sums by device reductions (double accumulation, rounded to fp32 when read: exact for
     * the counts below 2^24 tokens, ~1e-7 relative for the ratio and KL sums), gathered with the
     * loss into one small device vector and read back in ONE copy (one synchronisation on a GPU).
     * The k3 KL without a graph is computed in fp32 on the device (the host form computes it in
     * double). Returns the sums and the loss's value.
     */
    static Sums onDevice(Tensor loss, Tensor ratio, Tensor kl, Tensor refLogp, Tensor logp, Tensor adv, Tensor mask, float lo,
                         float hi, KlEstimator estimator, float[] lossValue) {
        try (var ng = Grad.noGrad()) {
            Tensor low = F.mul(F.lessThan(ratio, lo), F.lessThan(adv, 0f));            // [N, T] · [N, 1]
            Tensor high = F.mul(F.greaterThan(ratio, hi), F.greaterThan(adv, 0f));
            List<Tensor> parts = new ArrayList<>(List.of(loss.detach().reshape(1), F.maskedSum(low, mask).reshape(1),
                    F.maskedSum(high, mask).reshape(1), F.maskedSum(ratio, mask).reshape(1)));
            if (refLogp != null) {
                Tensor k = kl;
                if (k == null) k = GrpoLoss.kl(logp, refLogp, estimator);
                parts.add(F.maskedSum(k, mask).reshape(1));
            }
            Tensor all = F.concat(parts, 0);
            float[] v = new float[parts.size()];
            all.device().read(all.deviceArray("grpo metrics"), 0, v, 0, v.length, "grpo loss and metric sums [" + v.length + "]");
            lossValue[0] = v[0];
            return new Sums(v.length > 4 ? v[4] : 0, v[1], v[2], v[3]);
        }
    }
}

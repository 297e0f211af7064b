package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.autograd.Grad;

/**
 * The GRPO objective (DeepSeekMath, arXiv:2402.03300, eq. 3) with the variants people ablate.
 * For completion i, token t, with per-token log-probs of the current policy {@code logp}, of the
 * policy that sampled the batch {@code old} and of the frozen reference {@code ref}:
 * <pre>
 *   ratio_it = exp(logp_it − old_it)
 *   surr_it  = min( ratio_it · A_i,  clip(ratio_it, 1 − ε_low, 1 + ε_high) · A_i )
 *   kl_it    = exp(ref_it − logp_it) − (ref_it − logp_it) − 1          (k3 estimator, ≥ 0)
 *   ℓ_it     = −surr_it + β · kl_it
 * </pre>
 * and, with the completion mask m (1 on generated tokens that train), the four aggregations over a
 * batch of N = B·G completions (L = max_completion_length):
 * <pre>
 *   grpo:    (1/N) Σ_i [ Σ_t ℓ_it m_it / Σ_t m_it ]     per-sequence token mean, then batch mean
 *   bnpo:    Σ_it ℓ_it m_it / Σ_it m_it                  token mean over the (micro-)batch
 *   dr_grpo: Σ_it ℓ_it m_it / (N · L)                    Dr. GRPO: a constant normaliser
 *   dapo:    Σ_it ℓ_it m_it / Σ_it m_it  over the whole mini-batch (global token normaliser)
 * </pre>
 * With gradient accumulation a mini-batch (one optimizer update) is processed in micro-batches and
 * their losses are summed, so each micro-batch's share is scaled by the mini-batch's size
 * ({@link Scale}): grpo and dr_grpo divide by the mini-batch's sequence count, dapo by its active
 * tokens, and bnpo — TRL's definition — takes the token mean of each micro-batch and divides by the
 * number of micro-batches. Summing the micro-batch losses of grpo, dr_grpo and dapo is therefore
 * exactly the loss of the whole mini-batch at once.
 *
 * <p>Clip metrics, as TRL counts them, over active tokens: a token is low-clipped when
 * {@code ratio < 1 − ε_low} and A &lt; 0, high-clipped when {@code ratio > 1 + ε_high} and A &gt; 0
 * (exactly the tokens whose gradient the clip removes); region-clipped is either.
 */
public final class GrpoLoss {

    /** The objective's constants. */
    public record Settings(LossType lossType, double epsilonLow, double epsilonHigh, double beta, int maxCompletionLength) {
        public Settings {
            if (lossType == null) throw new IllegalArgumentException("loss_type is null");
            if (!(epsilonLow >= 0 && epsilonHigh >= epsilonLow)) {
                throw new IllegalArgumentException("need 0 ≤ epsilon ≤ epsilon_high, got " + epsilonLow + ", " + epsilonHigh);
            }
            if (!(beta >= 0)) throw new IllegalArgumentException("beta must be ≥ 0, got " + beta);
            if (maxCompletionLength < 1) throw new IllegalArgumentException("max_completion_length must be ≥ 1");
        }

        public static Settings of(GrpoConfig c) {
            return new Settings(c.lossType(), c.epsilon(), c.epsilonHigh(), c.beta(), c.maxCompletionLength());
        }
    }

    /**
     * Size of the mini-batch a micro-batch belongs to.
     *
     * @param sequences    completions in the mini-batch (N in the formulas)
     * @param activeTokens Σ m over the mini-batch (dapo's normaliser)
     * @param microBatches micro-batches the mini-batch is split into (bnpo divides by it)
     */
    public record Scale(int sequences, double activeTokens, int microBatches) {
        /** The micro-batch is the whole mini-batch. */
        public static Scale whole(Tensor mask) {
            return new Scale(mask.dim(0), GrpoLoss.activeTokens(mask), 1);
        }
    }

    /**
     * Loss of one micro-batch and the sums its metrics are made of (divide by {@code activeTokens}
     * after adding up the micro-batches of a step); {@code lossValue} is the loss already on the host
     * (on a device it came back with the metric sums, in one copy).
     */
    public record Result(Tensor loss, double activeTokens, double klSum, double lowClipped, double highClipped,
                         double regionClipped, double ratioSum, float lossValue) {
        public double kl() { return klSum / Math.max(1, activeTokens); }
        public double lowClipRatio() { return lowClipped / Math.max(1, activeTokens); }
        public double highClipRatio() { return highClipped / Math.max(1, activeTokens); }
        public double regionClipRatio() { return regionClipped / Math.max(1, activeTokens); }
    }

    private GrpoLoss() {}

    /**
     * @param logp       [N, T] per-token log-probs of the policy being trained (with grad)
     * @param oldLogp    [N, T] log-probs of the policy that sampled (num_iterations &gt; 1), or null:
     *                   then old = logp detached, so ratio = 1 exactly and the gradient is A·∇logp
     * @param refLogp    [N, T] reference log-probs, or null (required when β &gt; 0)
     * @param advantages [N], one per completion (uploaded here when logp lives on a device)
     * @param mask       [N, T] completion mask, 1 where a generated token trains
     */
    public static Result compute(Tensor logp, Tensor oldLogp, Tensor refLogp, float[] advantages, Tensor mask,
                                 Settings s, Scale scale) {
        int n = logp.dim(0);
        if (advantages.length != n) throw new IllegalArgumentException("grpo loss: " + advantages.length + " advantages for " + n + " completions");
        Tensor a = Tensor.of(advantages, n, 1);
        if (logp.isOnDevice()) a = a.toDevice(logp.device(), "grpo advantages [" + n + "]");
        return compute(logp, oldLogp, refLogp, a, mask, activeTokens(mask), s, scale);
    }

    /**
     * The loss with every input already where logp lives (the trainer's device path: the advantages
     * are uploaded once per step and sliced per micro-batch on the device).
     *
     * @param advantages   [N, 1], one per completion
     * @param activeTokens Σ mask (the caller built the mask on the host and knows it without a read)
     */
    public static Result compute(Tensor logp, Tensor oldLogp, Tensor refLogp, Tensor advantages, Tensor mask, double activeTokens,
                                 Settings s, Scale scale) {
        int n = logp.dim(0), t = logp.dim(1);
        check("logp", logp, n, t);
        check("mask", mask, n, t);
        if (oldLogp != null) check("old log-probs", oldLogp, n, t);
        if (refLogp != null) check("reference log-probs", refLogp, n, t);
        if (advantages.numel() != n) throw new IllegalArgumentException("grpo loss: " + advantages.numel() + " advantages for " + n + " completions");
        if (s.beta() > 0 && refLogp == null) throw new IllegalArgumentException("grpo loss: beta > 0 needs reference log-probs");

        Tensor old = oldLogp != null ? oldLogp : logp.detach();
        Tensor a = advantages.reshape(n, 1);
        Tensor ratio = F.exp(F.sub(logp, old));                                             // [N, T]
        Tensor clipped = F.clamp(ratio, (float) (1 - s.epsilonLow()), (float) (1 + s.epsilonHigh()));
        Tensor surrogate = F.minimum(F.mul(ratio, a), F.mul(clipped, a));
        Tensor perToken = F.neg(surrogate);
        Tensor kl = null;
        if (refLogp != null && s.beta() > 0) {
            Tensor d = F.sub(refLogp, logp);
            kl = F.addScalar(F.sub(F.exp(d), d), -1f);                                      // k3, ≥ 0
            perToken = F.add(perToken, F.scale(kl, (float) s.beta()));
        }

        double active = activeTokens;
        Tensor loss = switch (s.lossType()) {
            case GRPO -> F.scale(F.sum(F.maskedMean(perToken, mask, 1)), 1f / scale.sequences());
            case BNPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / Math.max(1, active) / scale.microBatches()));
            case DR_GRPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / ((double) scale.sequences() * s.maxCompletionLength())));
            case DAPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / Math.max(1, scale.activeTokens())));
        };

        // metrics (no graph): the k3 KL even when β = 0 but a reference is given, and the clip counts
        float lo = (float) (1 - s.epsilonLow()), hi = (float) (1 + s.epsilonHigh());
        float[] lossValue = new float[1];
        GrpoLossMetrics.Sums m;
        if (logp.isOnDevice()) {
            m = GrpoLossMetrics.onDevice(loss, ratio, kl, refLogp, logp, a, mask, lo, hi, lossValue);
        } else {
            m = GrpoLossMetrics.onHost(ratio, kl, refLogp, logp, a.data(), mask, lo, hi);
            lossValue[0] = loss.item();
        }
        return new Result(loss, active, m.kl(), m.low(), m.high(), m.low() + m.high(), m.ratio(), lossValue[0]);
    }

    /** Σ mask: summed on the host, or by one device reduction read back as 4 bytes. */
    public static double activeTokens(Tensor mask) {
        if (!mask.isOnDevice()) return sum(mask.data());
        try (var ng = Grad.noGrad()) {
            return F.sum(mask).item("grpo active tokens");
        }
    }

    /** Per-token k3 KL, exp(ref − logp) − (ref − logp) − 1, without a graph (for metrics and tests). */
    public static float[] k3(float[] logp, float[] ref) {
        float[] out = new float[logp.length];
        for (int i = 0; i < out.length; i++) {
            double d = (double) ref[i] - logp[i];
            out[i] = (float) (Math.exp(d) - d - 1);
        }
        return out;
    }

    private static void check(String what, Tensor x, int n, int t) {
        if (x.rank() != 2 || x.dim(0) != n || x.dim(1) != t) {
            throw new IllegalArgumentException("grpo loss: " + what + " has shape " + java.util.Arrays.toString(x.shape())
                    + ", expected [" + n + ", " + t + "]");
        }
    }

    static double sum(float[] x) {
        double s = 0;
        for (float v : x) s += v;
        return s;
    }
}

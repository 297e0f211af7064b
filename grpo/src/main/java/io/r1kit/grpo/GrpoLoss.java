package io.r1kit.grpo;

import io.r1kit.grpo.GrpoConfig.ImportanceSamplingLevel;
import io.r1kit.grpo.GrpoConfig.KlEstimator;
import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.model.ops.F;
import io.r1kit.model.ops.HostSums;
import io.r1kit.model.tensor.Tensor;

/**
 * The GRPO objective (DeepSeekMath, arXiv:2402.03300, eq. 3) with the variants people ablate.
 * For completion i, token t, with per-token log-probs of the current policy {@code logp}, of the
 * policy that sampled the batch {@code old} and of the frozen reference {@code ref}:
 * <pre>
 *   ratio_it = exp(logp_it − old_it)                                    importance_sampling_level: token
 *   ratio_i  = exp( Σ_t (logp_it − old_it) m_it / Σ_t m_it )            sequence (GSPO, arXiv:2507.18071)
 *   surr_it  = min( min(ratio_it, δ) · A_i,  clip(ratio_it, 1 − ε_low, 1 + ε_high) · A_i )
 *                                                                       δ = ∞ unless delta is set (INTELLECT-2)
 *   surr_it  = sg(min(ratio_it, ε_high)) · A_i · logp_it               loss_type cispo (MiniMax-M1, arXiv:2506.13585)
 *   kl_it    = exp(ref_it − logp_it) − (ref_it − logp_it) − 1          k3 (default, ≥ 0); k1: logp − ref;
 *                                                                       k2: ½ (logp − ref)²; low_var_kl: k3 with
 *                                                                       ref − logp clamped to ±20 and kl to ±10 (verl)
 *   ℓ_it     = −surr_it · e_it · w_it + β · kl_it − c_H · H_it
 * </pre>
 * where e_it is 1, or with {@code top_entropy_quantile} q &lt; 1 is 1 only on tokens whose entropy H
 * is at least the (1 − q) quantile of the micro-batch's active tokens ("Beyond the 80/20 rule",
 * arXiv:2506.01939), w_it is the rollout-correction weight (1, or truncated importance weights
 * between the trainer and the sampler, computed by the caller, see {@link RolloutCorrection}),
 * c_H is {@code entropy_coef} and the KL term is absent with {@code kl_in_reward} (the KL is then a
 * reward penalty). A_i may also be per token (A_it: REINFORCE++ with the KL in the reward).
 * With the completion mask m (1 on generated tokens that train), the aggregations over a
 * batch of N = B·G completions (L = max_completion_length):
 * <pre>
 *   grpo:    (1/N) Σ_i [ Σ_t ℓ_it m_it / Σ_t m_it ]     per-sequence token mean, then batch mean
 *   bnpo:    Σ_it ℓ_it m_it / Σ_it m_it                  token mean over the (micro-)batch
 *   dr_grpo: Σ_it ℓ_it m_it / (N · L)                    Dr. GRPO: a constant normaliser
 *   dapo, cispo: Σ_it ℓ_it m_it / Σ_it m_it  over the whole mini-batch (global token normaliser, as TRL)
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

    /**
     * The objective's constants.
     *
     * @param beta              weight of the KL term in the loss (0 with kl_in_reward: the KL is then in the reward)
     * @param delta             upper bound of the unclipped ratio (two-sided clipping), or NaN for none
     * @param topEntropyQuantile train only on tokens in this top quantile of entropy (1 = all)
     * @param entropyCoef       weight of the entropy bonus (0 = none)
     */
    public record Settings(LossType lossType, double epsilonLow, double epsilonHigh, double beta, int maxCompletionLength,
                           ImportanceSamplingLevel level, KlEstimator klEstimator, double delta, double topEntropyQuantile,
                           double entropyCoef) {
        public Settings {
            if (lossType == null) throw new IllegalArgumentException("loss_type is null");
            if (!(epsilonLow >= 0 && epsilonHigh >= epsilonLow)) {
                throw new IllegalArgumentException("need 0 ≤ epsilon ≤ epsilon_high, got " + epsilonLow + ", " + epsilonHigh);
            }
            if (!(beta >= 0)) throw new IllegalArgumentException("beta must be ≥ 0, got " + beta);
            if (maxCompletionLength < 1) throw new IllegalArgumentException("max_completion_length must be ≥ 1");
            if (level == null || klEstimator == null) throw new IllegalArgumentException("importance_sampling_level and kl_estimator are required");
            if (!Double.isNaN(delta) && !(delta > 1 + epsilonHigh)) {
                throw new IllegalArgumentException("delta must be > 1 + epsilon_high (" + (1 + epsilonHigh) + "), got " + delta);
            }
            if (!(topEntropyQuantile > 0 && topEntropyQuantile <= 1)) {
                throw new IllegalArgumentException("top_entropy_quantile must be in (0, 1], got " + topEntropyQuantile);
            }
            if (!(entropyCoef >= 0)) throw new IllegalArgumentException("entropy_coef must be ≥ 0, got " + entropyCoef);
        }

        /** Token-level ratios, k3, no delta, every token, no entropy bonus. */
        public Settings(LossType lossType, double epsilonLow, double epsilonHigh, double beta, int maxCompletionLength) {
            this(lossType, epsilonLow, epsilonHigh, beta, maxCompletionLength, ImportanceSamplingLevel.TOKEN, KlEstimator.K3,
                    Double.NaN, 1.0, 0.0);
        }

        public static Settings of(GrpoConfig c) {
            return new Settings(c.lossType(), c.epsilon(), c.epsilonHigh(), c.klInReward() ? 0.0 : c.beta(), c.maxCompletionLength(),
                    c.importanceSamplingLevel(), c.klEstimator(), c.delta() == null ? Double.NaN : c.delta(), c.topEntropyQuantile(),
                    c.entropyCoef());
        }

        /** Whether the loss needs the policy's per-token entropy. */
        public boolean needsEntropy() {
            return topEntropyQuantile < 1 || entropyCoef > 0;
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
        Tensor a = Tensor.of(advantages, n, 1).toDeviceOf(logp, "grpo advantages [" + n + "]");
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
        return compute(logp, oldLogp, refLogp, advantages, mask, activeTokens, null, null, s, scale);
    }

    /**
     * The full objective.
     *
     * @param advantages   [N, 1] per completion, or [N, T] per token
     * @param entropy      [N, T] per-token entropy of the policy (with grad), or null; required when
     *                     {@link Settings#needsEntropy()}
     * @param weights      [N, T] rollout-correction weights w_it (no grad), or null for 1
     */
    public static Result compute(Tensor logp, Tensor oldLogp, Tensor refLogp, Tensor advantages, Tensor mask, double activeTokens,
                                 Tensor entropy, Tensor weights, Settings s, Scale scale) {
        int n = logp.dim(0), t = logp.dim(1);
        check("logp", logp, n, t);
        check("mask", mask, n, t);
        if (oldLogp != null) check("old log-probs", oldLogp, n, t);
        if (refLogp != null) check("reference log-probs", refLogp, n, t);
        if (entropy != null) check("entropy", entropy, n, t);
        if (weights != null) check("rollout-correction weights", weights, n, t);
        if (advantages.numel() != n && advantages.numel() != (long) n * t) {
            throw new IllegalArgumentException("grpo loss: " + advantages.numel() + " advantages for " + n + " completions of " + t + " tokens");
        }
        if (s.beta() > 0 && refLogp == null) throw new IllegalArgumentException("grpo loss: beta > 0 needs reference log-probs");
        if (s.needsEntropy() && entropy == null) {
            throw new IllegalArgumentException("grpo loss: top_entropy_quantile < 1 or entropy_coef > 0 needs the policy's entropy");
        }

        Tensor old = oldLogp != null ? oldLogp : logp.detach();
        Tensor a = advantages.numel() == n ? F.reshape(advantages, n, 1) : F.reshape(advantages, n, t);
        Tensor logRatio = F.sub(logp, old);                                                   // [N, T]
        Tensor ratio = switch (s.level()) {
            case TOKEN -> F.exp(logRatio);                                                     // [N, T]
            // GSPO: one ratio per completion, spread over its tokens ([N, 1] broadcast to [N, T]; the 0·logRatio adds no gradient)
            case SEQUENCE -> F.exp(F.add(F.scale(logRatio, 0f), F.reshape(F.maskedMean(logRatio, mask, 1), n, 1)));
        };
        float lo = (float) (1 - s.epsilonLow()), hi = (float) (1 + s.epsilonHigh());
        Tensor surrogate;
        if (s.lossType() == LossType.CISPO) {
            Tensor w = F.clamp(ratio, Float.NEGATIVE_INFINITY, (float) s.epsilonHigh()).detach();
            surrogate = F.mul(F.mul(w, a), logp);
            hi = (float) s.epsilonHigh();                                                      // clip metric: weights clamped
            lo = Float.NEGATIVE_INFINITY;
        } else {
            Tensor clipped = F.clamp(ratio, lo, hi);
            Tensor unclipped = Double.isNaN(s.delta()) ? ratio : F.clamp(ratio, Float.NEGATIVE_INFINITY, (float) s.delta());
            surrogate = F.minimum(F.mul(unclipped, a), F.mul(clipped, a));
        }
        Tensor perToken = F.neg(surrogate);
        if (s.topEntropyQuantile() < 1) perToken = F.mul(perToken, entropyMask(entropy, mask, s.topEntropyQuantile()));
        if (weights != null) perToken = F.mul(perToken, weights);
        Tensor kl = null;
        if (refLogp != null && s.beta() > 0) {
            kl = kl(logp, refLogp, s.klEstimator());
            perToken = F.add(perToken, F.scale(kl, (float) s.beta()));
        }
        if (s.entropyCoef() > 0) perToken = F.sub(perToken, F.scale(entropy, (float) s.entropyCoef()));

        double active = activeTokens;
        Tensor loss = switch (s.lossType()) {
            case GRPO -> F.scale(F.sum(F.maskedMean(perToken, mask, 1)), 1f / scale.sequences());
            case BNPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / Math.max(1, active) / scale.microBatches()));
            case DR_GRPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / ((double) scale.sequences() * s.maxCompletionLength())));
            case DAPO, CISPO -> F.scale(F.maskedSum(perToken, mask), (float) (1.0 / Math.max(1, scale.activeTokens())));
        };

        // metrics (no graph): the KL even when β = 0 but a reference is given, and the clip counts
        GrpoLossMetrics.Sums m = GrpoLossMetrics.read(loss, ratio, kl, refLogp, logp, a, mask, lo, hi, s.klEstimator());
        return new Result(loss, active, m.kl(), m.low(), m.high(), m.low() + m.high(), m.ratio(), m.loss());
    }

    /** The per-token KL estimate of {@code estimator} between the policy and the reference (with grad through logp). */
    static Tensor kl(Tensor logp, Tensor refLogp, KlEstimator estimator) {
        return switch (estimator) {
            case K1 -> F.sub(logp, refLogp);
            case K2 -> {
                Tensor d = F.sub(logp, refLogp);
                yield F.scale(F.mul(d, d), 0.5f);
            }
            case K3 -> {
                Tensor d = F.sub(refLogp, logp);
                yield F.addScalar(F.sub(F.exp(d), d), -1f);
            }
            case LOW_VAR_KL -> {
                Tensor d = F.clamp(F.sub(refLogp, logp), -20f, 20f);
                yield F.clamp(F.addScalar(F.sub(F.exp(d), d), -1f), -10f, 10f);
            }
        };
    }

    /** Per-token KL of {@code estimator} in double, without a graph (metrics, the reward penalty, tests). */
    public static double kl(double logp, double ref, KlEstimator estimator) {
        return switch (estimator) {
            case K1 -> logp - ref;
            case K2 -> 0.5 * (logp - ref) * (logp - ref);
            case K3 -> Math.exp(ref - logp) - (ref - logp) - 1;
            case LOW_VAR_KL -> {
                double d = Math.max(-20, Math.min(20, ref - logp));
                yield Math.max(-10, Math.min(10, Math.exp(d) - d - 1));
            }
        };
    }

    /**
     * 1 on active tokens whose entropy is at least the (1 − q) quantile of the active tokens'
     * entropies (linear interpolation, as torch.quantile), else 0; no gradient. The entropies are
     * read to the host (on a device: one [N, T] copy per micro-batch) and the mask goes back.
     */
    static Tensor entropyMask(Tensor entropy, Tensor mask, double q) {
        float[] h = entropy.detach().toHost().data();
        float[] m = mask.toHost().data();
        int k = 0;
        for (float v : m) if (v != 0) k++;
        float[] out = new float[m.length];
        if (k > 0) {
            double[] active = new double[k];
            int j = 0;
            for (int i = 0; i < m.length; i++) if (m[i] != 0) active[j++] = h[i];
            double threshold = quantile(active, 1 - q);
            for (int i = 0; i < m.length; i++) out[i] = m[i] != 0 && h[i] >= threshold ? 1f : 0f;
        }
        Tensor t = Tensor.wrap(out, entropy.shape());
        return t.toDeviceOf(entropy, "grpo entropy mask");
    }

    /** The p-quantile of x with linear interpolation between order statistics (torch.quantile's default). */
    public static double quantile(double[] x, double p) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        double pos = p * (s.length - 1);
        int i = (int) Math.floor(pos);
        if (i >= s.length - 1) return s[s.length - 1];
        return s[i] + (pos - i) * (s[i + 1] - s[i]);
    }

    /** Σ mask: summed on the host, or by one device reduction read back as 4 bytes. */
    public static double activeTokens(Tensor mask) {
        return HostSums.sum(mask, "grpo active tokens");
    }

    /** Per-token k3 KL, exp(ref − logp) − (ref − logp) − 1, without a graph (for metrics and tests). */
    public static float[] k3(float[] logp, float[] ref) {
        return kl(logp, ref, KlEstimator.K3);
    }

    /** Per-token KL of {@code estimator}, without a graph. */
    public static float[] kl(float[] logp, float[] ref, KlEstimator estimator) {
        float[] out = new float[logp.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) kl(logp[i], ref[i], estimator);
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

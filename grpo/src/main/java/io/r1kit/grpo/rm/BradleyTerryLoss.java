package io.r1kit.grpo.rm;

import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;

/**
 * The pairwise reward-model loss of InstructGPT / TRL's {@code RewardTrainer}:
 * {@code loss = mean_b −log σ(r_chosen[b] − r_rejected[b])}, optionally plus TRL's
 * {@code center_rewards_coefficient · mean_b (r_chosen[b] + r_rejected[b])²}, which keeps the
 * scores centred on 0 (Eisenstein et al. 2023) without changing which answer wins.
 *
 * <p>Gradient: with d = r_c − r_r, ∂loss/∂r_c = −(1 − σ(d))/B and ∂loss/∂r_r = +(1 − σ(d))/B.
 * {@link F#logSigmoid} is the stable form, so a large negative margin gives a large loss, not Inf.
 */
public final class BradleyTerryLoss {
    private BradleyTerryLoss() {}

    /** chosen, rejected: [B] scores → 0-d loss. */
    public static Tensor loss(Tensor chosen, Tensor rejected) {
        return loss(chosen, rejected, 0.0);
    }

    /** With TRL's centring term (coefficient 0 = off). */
    public static Tensor loss(Tensor chosen, Tensor rejected, double centerCoefficient) {
        if (chosen.rank() != 1 || rejected.rank() != 1 || chosen.dim(0) != rejected.dim(0))
            throw new IllegalArgumentException("Bradley-Terry loss: chosen and rejected must be [B] with the same B, got "
                    + java.util.Arrays.toString(chosen.shape()) + " and " + java.util.Arrays.toString(rejected.shape()));
        Tensor loss = F.neg(F.mean(F.logSigmoid(F.sub(chosen, rejected))));   // [B] → 0-d
        if (centerCoefficient != 0) {
            Tensor s = F.add(chosen, rejected);
            loss = F.add(loss, F.scale(F.mean(F.mul(s, s)), (float) centerCoefficient));
        }
        return loss;
    }

    /** Share of pairs with r_chosen &gt; r_rejected (a tie counts as wrong, as TRL's accuracy). */
    public static double accuracy(float[] chosen, float[] rejected) {
        if (chosen.length != rejected.length) throw new IllegalArgumentException("accuracy: " + chosen.length + " vs " + rejected.length + " scores");
        if (chosen.length == 0) return Double.NaN;
        int ok = 0;
        for (int i = 0; i < chosen.length; i++) if (chosen[i] > rejected[i]) ok++;
        return (double) ok / chosen.length;
    }
}

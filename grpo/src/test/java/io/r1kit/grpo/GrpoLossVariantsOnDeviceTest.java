package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r1kit.grpo.GrpoConfig.ImportanceSamplingLevel;
import io.r1kit.grpo.GrpoConfig.KlEstimator;
import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.grpo.GrpoLoss.Result;
import io.r1kit.grpo.GrpoLoss.Scale;
import io.r1kit.grpo.GrpoLoss.Settings;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The new loss terms (GSPO, CISPO, delta, every KL estimator, the entropy mask and bonus, the
 * rollout-correction weights) with device inputs give the host's loss, gradients and metrics.
 * Tolerance 1e-6 relative: the ops give the CPU's bits on the emulated device (DeviceLossOpsTest)
 * except the masked per-row mean of GSPO's log-ratio and the metric sums, reduced in another order.
 */
class GrpoLossVariantsOnDeviceTest {
    static final int N = GrpoLossVariantsTest.N, T = GrpoLossVariantsTest.T;

    @Test
    void everyNewTermOnTheDeviceMatchesTheHost() {
        GrpoLossVariantsTest.Case c = GrpoLossVariantsTest.randomCase(21, true);
        Settings[] all = {
                GrpoLossVariantsTest.settings(LossType.GRPO, ImportanceSamplingLevel.SEQUENCE, KlEstimator.K3, 0.05, Double.NaN, 1, 0),
                GrpoLossVariantsTest.settings(LossType.CISPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K1, 0.05, Double.NaN, 1, 0),
                GrpoLossVariantsTest.settings(LossType.DAPO, ImportanceSamplingLevel.TOKEN, KlEstimator.K2, 0.05, 1.4, 1, 0),
                GrpoLossVariantsTest.settings(LossType.BNPO, ImportanceSamplingLevel.TOKEN, KlEstimator.LOW_VAR_KL, 0.05, Double.NaN, 0.3, 0.01),
        };
        for (Settings s : all) {
            for (boolean withWeights : new boolean[] {false, true}) {
                String what = s + " weights " + withWeights;
                Tensor hl = Tensor.of(c.lp(), N, T).requiresGrad(true), hh = Tensor.of(c.ent(), N, T).requiresGrad(true);
                Result h = compute(hl, hh, c, s, withWeights, null);
                h.loss().backward();
                EmulatedDevice emu = new EmulatedDevice();
                Tensor dl = Tensor.of(c.lp(), N, T).toDevice(emu).requiresGrad(true), dh = Tensor.of(c.ent(), N, T).toDevice(emu).requiresGrad(true);
                Result d = compute(dl, dh, c, s, withWeights, emu);
                d.loss().backward();
                assertEquals(h.loss().item(), d.lossValue(), 1e-6 * Math.max(1, Math.abs(h.loss().item())), what);
                assertArrayEquals(hl.gradData(), dl.gradData(), 1e-6f, what);
                if (s.entropyCoef() > 0) assertArrayEquals(hh.gradData(), dh.gradData(), 1e-6f, what + " entropy gradient");
                assertEquals(h.kl(), d.kl(), 1e-5 * Math.max(1, Math.abs(h.kl())), what);
                assertEquals(h.highClipRatio(), d.highClipRatio(), 1e-6, what);
                assertEquals(h.lowClipRatio(), d.lowClipRatio(), 1e-6, what);
            }
        }
    }

    static Result compute(Tensor logp, Tensor ent, GrpoLossVariantsTest.Case c, Settings s, boolean withWeights, EmulatedDevice emu) {
        Tensor old = Tensor.of(c.old(), N, T), ref = Tensor.of(c.ref(), N, T), mask = Tensor.of(c.mask(), N, T), adv = Tensor.of(c.adv(), N, 1);
        Tensor w = withWeights ? Tensor.of(c.w(), N, T) : null;
        if (emu != null) {
            old = old.toDevice(emu);
            ref = ref.toDevice(emu);
            mask = mask.toDevice(emu);
            adv = adv.toDevice(emu);
            if (w != null) w = w.toDevice(emu);
        }
        double active = GrpoLoss.sum(c.mask());
        return GrpoLoss.compute(logp, old, ref, adv, mask, active, s.needsEntropy() ? ent : null, w, s,
                new Scale(N, active, 1));
    }
}

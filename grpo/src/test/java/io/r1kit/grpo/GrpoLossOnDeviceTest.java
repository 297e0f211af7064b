package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.GrpoConfig.LossType;
import io.r1kit.grpo.GrpoLoss.Result;
import io.r1kit.grpo.GrpoLoss.Scale;
import io.r1kit.grpo.GrpoLoss.Settings;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.backend.device.Transfers.Direction;
import io.r1kit.model.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link GrpoLoss} with device inputs vs host inputs, every loss type, with and without β: loss,
 * the gradient of logp, and the metric sums (both clip bounds reached, both advantage signs, a
 * masked-out row, β = 0 with a reference: the KL computed without a graph). The device must read
 * back exactly one copy of 5 floats (4 without a reference) and nothing else.
 *
 * <p>Tolerances: the loss expression's ops give the CPU's bits on the emulated device
 * (DeviceLossOpsTest), so the loss and the gradient must be equal; the metric sums are
 * double on the host and rounded to fp32 on the device (the counts are exact), so 1e-6 relative.
 * The β = 0 KL is fp32 on the device and double on the host: 1e-5 relative.
 */
class GrpoLossOnDeviceTest {
    static final int N = 4, T = 7;

    static float[] rnd(long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[N * T];
        for (int i = 0; i < x.length; i++) x[i] = (float) (-1.5 + scale * (r.nextDouble() - 0.5));
        return x;
    }

    @Test
    void deviceInputsGiveTheHostLossGradientAndMetricsInOneRead() {
        float[] logp = rnd(1, 1), old = rnd(2, 1), ref = rnd(3, 1);   // |logp − old| up to 1: ratios from 0.37 to 2.7
        float[] mask = new float[N * T];
        for (int i = 0; i < N * T; i++) mask[i] = (i / T == 2 || i % T > 5) ? 0 : 1;   // row 2 masked out entirely
        float[] adv = {1.5f, -0.75f, 2f, -1f};
        for (LossType type : LossType.values()) {
            for (double beta : new double[] {0, 0.04}) {
                Settings s = new Settings(type, 0.2, 0.28, beta, T);
                Scale scale = new Scale(N, GrpoLoss.sum(mask), 2);
                Tensor hl = Tensor.of(logp, N, T).requiresGrad(true);
                Result h = GrpoLoss.compute(hl, Tensor.of(old, N, T), Tensor.of(ref, N, T), adv, Tensor.of(mask, N, T), s, scale);
                h.loss().backward();

                EmulatedDevice emu = new EmulatedDevice();
                Tensor dl = Tensor.of(logp, N, T).toDevice(emu).requiresGrad(true);
                Tensor dOld = Tensor.of(old, N, T).toDevice(emu), dRef = Tensor.of(ref, N, T).toDevice(emu);
                Tensor dMask = Tensor.of(mask, N, T).toDevice(emu), dAdv = Tensor.of(adv, N, 1).toDevice(emu);
                emu.transfers().reset();
                Result d = GrpoLoss.compute(dl, dOld, dRef, dAdv, dMask, GrpoLoss.sum(mask), s, scale);
                d.loss().backward();
                String what = type + " beta " + beta;
                assertEquals(1, emu.transfers().log().size(), what + ": " + emu.transfers().log());
                assertEquals(Direction.TO_HOST, emu.transfers().log().get(0).direction());
                assertEquals(20, emu.transfers().log().get(0).bytes(), what);

                assertEquals(h.lossValue(), d.lossValue(), 0f, what + " loss");
                float[] gh = hl.gradData(), gd = dl.gradData();
                for (int i = 0; i < gh.length; i++) assertEquals(gh[i], gd[i], 0f, what + " grad " + i);
                if (type != LossType.CISPO) assertTrue(h.lowClipped() > 0 && h.highClipped() > 0, "both clip bounds are reached: " + h);   // cispo only caps the weight above
                assertEquals(h.lowClipped(), d.lowClipped(), 0, what);
                assertEquals(h.highClipped(), d.highClipped(), 0, what);
                assertEquals(h.regionClipped(), d.regionClipped(), 0, what);
                assertEquals(h.activeTokens(), d.activeTokens(), 0, what);
                assertEquals(h.ratioSum(), d.ratioSum(), 1e-6 * Math.abs(h.ratioSum()), what);
                assertEquals(h.klSum(), d.klSum(), (beta > 0 ? 1e-6 : 1e-5) * Math.abs(h.klSum()), what);
            }
        }
    }
}

package io.r1kit.model.backend.device;

import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The mixed-precision GEMM path of matmul / linear on {@link EmulatedDevice}: an operand stored in
 * bf16 (an activation after {@code storeAsBf16}, a parameter reading its bf16 copy) makes the
 * forward and both backward products bf16 GEMMs with fp32 accumulation. Checked bit for bit
 * against the CPU's fp32 matmul of the bf16-rounded operands, with an upstream gradient that is
 * itself bf16-representable (so the backward's cast of dC is exact): the emulated bf16 GEMM is
 * the CPU kernel on exactly-widened bf16 values, so any rounding in the wrong place, a missed
 * operand or a GEMM reading the fp32 master instead of the copy changes bits.
 */
class Bf16LinearTest {
    private final EmulatedDevice emu = new EmulatedDevice();

    private static float[] randn(long seed, int n, boolean bf16) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
            if (bf16) a[i] = FloatFormats.roundToBf16(a[i]);
        }
        return a;
    }

    private static float[] rounded(float[] a) {
        float[] r = a.clone();
        for (int i = 0; i < r.length; i++) r[i] = FloatFormats.roundToBf16(r[i]);
        return r;
    }

    /** {y, dx, dW} of loss = Σ linear(x, W) ⊙ G. */
    private static float[][] linearAndGrads(Tensor x, Parameter w, Tensor g) {
        Tensor y = F.linear(x, w);
        F.sum(F.mul(y, g)).backward();
        return new float[][] {y.data(), x.gradData(), w.gradData()};
    }

    @Test
    void linearWithBf16InputAndBf16WeightCopyIsTheFp32ProductOfRoundedOperands() {
        int Bt = 3, T = 5, K = 16, N = 24;
        float[] x = randn(1, Bt * T * K, false), w = randn(2, N * K, false), g = randn(3, Bt * T * N, true);

        Tensor xc = Tensor.of(rounded(x), Bt, T, K).requiresGrad(true);
        Parameter wc = new Parameter("w", rounded(w), N, K);
        float[][] want = linearAndGrads(xc, wc, Tensor.of(g, Bt, T, N));

        Tensor xd = Tensor.of(x, Bt, T, K).toDevice(emu).requiresGrad(true).storeAsBf16();
        Parameter wd = new Parameter("w", w.clone(), N, K);
        wd.moveTo(emu).readBf16Copy(true);
        emu.transfers().reset();
        Tensor gd = Tensor.of(g, Bt, T, N).toDevice(emu);
        float[][] got = linearAndGrads(xd, wd, gd);

        assertArrayEquals(want[0], got[0], "y = bf16(x) · bf16(W)ᵀ, fp32 accumulation");
        assertArrayEquals(want[1], got[1], "dx = dC · bf16(W), fp32 result");
        assertArrayEquals(want[2], got[2], "dW = dCᵀ · bf16(x), fp32 result");
        assertEquals(ElementType.BF16, xd.storage().dtype());
    }

    @Test
    void batchedMatmulOfBf16StoredOperandsIsTheFp32ProductOfRoundedOperands() {
        float[] a = randn(4, 2 * 3 * 8, false), b = randn(5, 2 * 8 * 5, false), g = randn(6, 2 * 3 * 5, true);
        Tensor ac = Tensor.of(rounded(a), 2, 3, 8).requiresGrad(true), bc = Tensor.of(rounded(b), 2, 8, 5).requiresGrad(true);
        Tensor yc = F.matmul(ac, bc);
        F.sum(F.mul(yc, Tensor.of(g, 2, 3, 5))).backward();

        Tensor ad = Tensor.of(a, 2, 3, 8).toDevice(emu).requiresGrad(true).storeAsBf16();
        Tensor bd = Tensor.of(b, 2, 8, 5).toDevice(emu).requiresGrad(true);   // F32: cast per call
        Tensor yd = F.matmul(ad, bd);
        F.sum(F.mul(yd, Tensor.of(g, 2, 3, 5).toDevice(emu))).backward();

        assertArrayEquals(yc.data(), yd.data(), "batched forward");
        assertArrayEquals(ac.gradData(), ad.gradData(), "batched dA");
        assertArrayEquals(bc.gradData(), bd.gradData(), "batched dB (read in bf16: the product's operands are all bf16)");
    }

    @Test
    void theForwardReadsTheBf16CopyNotTheFp32MasterAndACopyFromMakesItCurrentAgain() {
        float[] x = randn(7, 4 * 8, false), w = randn(8, 6 * 8, false);
        Parameter wd = new Parameter("w", w.clone(), 6, 8);
        wd.moveTo(emu).readBf16Copy(true);
        // the optimizer's hook: a zero-filled copy marked current, as before its first mixed step writes it
        wd.bf16CopyToOverwrite();
        Tensor xd = Tensor.of(x, 4, 8).toDevice(emu);
        assertArrayEquals(new float[4 * 6], F.linear(xd, wd).data(), "the GEMM read the (zero) bf16 copy");

        float[] w2 = randn(9, 6 * 8, false);
        wd.copyFrom(w2);   // a load: the copy is stale and re-cast on the next read
        float[] want = F.linear(Tensor.of(rounded(x), 4, 8), new Parameter("w", rounded(w2), 6, 8)).data();
        assertArrayEquals(want, F.linear(xd, wd).data());
    }

    @Test
    void storeAsBf16IsForDeviceActivationsOnly() {
        assertThrows(IllegalStateException.class, () -> Tensor.of(new float[] {1, 2}, 2).storeAsBf16());
        Parameter p = new Parameter("p", new float[] {1, 2}, 2);
        p.moveTo(emu);
        assertThrows(IllegalArgumentException.class, p::storeAsBf16);
        assertThrows(IllegalStateException.class, () -> new Parameter("h", new float[] {1}, 1).readBf16Copy(true));
        Tensor t = Tensor.of(new float[] {1.00390625f, 3}, 2).toDevice(emu).storeAsBf16();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> F.scale(t, 2f));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("BF16"), e.getMessage());
    }
}

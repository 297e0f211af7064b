package io.r1kit.model.backend.device;

import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * AdamW and global-norm clipping on device parameters ({@link EmulatedDevice}) against the CPU
 * optimizer. The device step runs the same adamw kernel on device-resident master weights and
 * moments, so weights and moments must be BIT-identical to the CPU's; the clip differs only in
 * where the coefficient is computed (float on the device, as clip_scale_f32; double on the host),
 * at most 1 ulp of the coefficient (relative 1e-6 on the gradients).
 */
class DeviceAdamWTest {
    static final int[][] SHAPES = {{7, 5}, {5}, {3, 4}};

    /** Parameters with gradient = c (set by backward of sum(p * c)), the same on host and device. */
    private static List<Parameter> params(long seed, EmulatedDevice dev, List<float[]> grads) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Parameter> ps = new ArrayList<>();
        for (int i = 0; i < SHAPES.length; i++) {
            Parameter p = Parameter.randn("p" + i, r, 1f, SHAPES[i]);
            if (dev != null) p.moveTo(dev);
            ps.add(p);
        }
        return ps;
    }

    private static void setGrads(List<Parameter> ps, List<float[]> grads) {
        Tensor loss = null;
        for (int i = 0; i < ps.size(); i++) {
            Parameter p = ps.get(i);
            Tensor c = Tensor.of(grads.get(i), p.shape());
            if (p.isOnDevice()) c = c.toDevice(p.device());
            Tensor term = F.sum(F.mul(p, c));
            loss = loss == null ? term : F.add(loss, term);
        }
        for (Parameter p : ps) p.zeroGrad();
        loss.backward();
    }

    private static List<float[]> randomGrads(long seed, float scale, boolean bf16) {
        SplittableRandom r = new SplittableRandom(seed);
        List<float[]> gs = new ArrayList<>();
        for (int[] s : SHAPES) {
            float[] g = new float[Shape.numel(s)];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (r.nextGaussian() * scale);
                if (bf16) g[i] = FloatFormats.roundToBf16(g[i]);   // what the bf16 step sees on the device
            }
            gs.add(g);
        }
        return gs;
    }

    private static AdamW opt(List<Parameter> ps) {
        return new AdamW(AdamW.Config.defaults(3e-2f), ParamGroup.decayMatricesOnly(ps, 0.05f));
    }

    @Test
    void fp32StepOnDeviceIsBitIdenticalToCpuAndTransfersNothing() {
        EmulatedDevice emu = new EmulatedDevice();
        List<Parameter> cpu = params(1, null, null), dev = params(1, emu, null);
        AdamW oc = opt(cpu), od = opt(dev);
        for (int step = 0; step < 3; step++) {
            List<float[]> g = randomGrads(10 + step, 1f, false);
            setGrads(cpu, g);
            setGrads(dev, g);
            emu.transfers().reset();
            oc.step();
            od.step();
            assertEquals(0, emu.transfers().log().size(), "the device step copies nothing: " + emu.transfers().log());
        }
        assertSameWeights(cpu, dev);
        AdamW.State sc = oc.exportState(), sd = od.exportState();
        for (String k : sc.tensors().keySet()) assertArrayEquals(sc.tensors().get(k), sd.tensors().get(k), k);
        assertEquals(sc.scalars(), sd.scalars());
        assertNull(od.bf16Weights(dev.get(0)), "no bf16 copy in the fp32 mode");
    }

    @Test
    void stateImportedOnTheHostContinuesOnTheDevice() {
        EmulatedDevice emu = new EmulatedDevice();
        List<Parameter> cpu = params(2, null, null), dev = params(2, emu, null);
        AdamW oc = opt(cpu), od = opt(dev);
        setGrads(cpu, randomGrads(20, 1f, false));
        oc.step();
        for (int i = 0; i < cpu.size(); i++) dev.get(i).copyFrom(cpu.get(i).data());
        od.importState(oc.exportState());   // a resume: host moments, device parameters
        List<float[]> g = randomGrads(21, 1f, false);
        stepBoth(oc, cpu, od, dev, g);
        assertSameWeights(cpu, dev);
    }

    @Test
    void parametersMovedBackToTheHostKeepTheirMoments() {
        EmulatedDevice emu = new EmulatedDevice();
        List<Parameter> cpu = params(5, null, null), dev = params(5, emu, null);
        AdamW oc = opt(cpu), od = opt(dev);
        for (int step = 0; step < 3; step++) {
            if (step == 2) dev.forEach(Parameter::moveToHost);
            List<float[]> g = randomGrads(50 + step, 1f, false);
            stepBoth(oc, cpu, od, dev, g);
        }
        assertSameWeights(cpu, dev);
    }

    @Test
    void bf16StepKeepsFp32MasterWeightsAndWritesTheBf16Copy() {
        EmulatedDevice emu = new EmulatedDevice();
        List<Parameter> cpu = params(3, null, null), dev = params(3, emu, null);
        AdamW oc = opt(cpu), od = opt(dev).keepBf16Copy(true);
        for (int step = 0; step < 3; step++) {
            // the device rounds the fp32 gradients to bf16; the CPU reference gets the rounded values
            List<float[]> exact = randomGrads(30 + step, 1f, false), rounded = randomGrads(30 + step, 1f, true);
            setGrads(cpu, rounded);
            setGrads(dev, exact);
            oc.step();
            od.step();
        }
        for (int i = 0; i < cpu.size(); i++) {
            Parameter pc = cpu.get(i), pd = dev.get(i);
            assertArrayEquals(pc.data(), pd.data(), "fp32 master " + pc.name());
            Tensor w16 = od.bf16Weights(pd);
            assertEquals(ElementType.BF16, w16.storage().dtype());
            DeviceArray back = emu.alloc(ElementType.F32, pd.numel());
            emu.bf16ToF32(back, w16.storage().array(), pd.numel());
            float[] got = new float[pd.numel()];
            emu.read(back, 0, got, 0, got.length, "test");
            float[] want = pc.data().clone();
            for (int j = 0; j < want.length; j++) want[j] = FloatFormats.roundToBf16(want[j]);
            assertArrayEquals(want, got, "bf16 copy = bf16(master) " + pc.name());
        }
    }

    @Test
    void clippingOnDeviceMatchesCpuAndReadsOnlyTheNorm() {
        EmulatedDevice emu = new EmulatedDevice();
        List<Parameter> cpu = params(4, null, null), dev = params(4, emu, null);
        List<float[]> g = randomGrads(40, 3f, false);
        setGrads(cpu, g);
        setGrads(dev, g);
        assertEquals(GradClip.globalNorm(cpu), GradClip.globalNorm(dev), 0.0, "same double sum of squares");
        emu.transfers().reset();
        double nc = GradClip.clipGlobalNorm(cpu, 1.0), nd = GradClip.clipGlobalNorm(dev, 1.0);
        assertEquals(nc, nd, 0.0);
        assertTrue(nc > 1.0, "the gradients were large enough to clip: " + nc);
        assertEquals(List.of("d->h 8 B gradient norm"), emu.transfers().log().stream().map(Object::toString).toList());
        for (int i = 0; i < cpu.size(); i++)
            DeviceTrainingStepTest.assertClose(cpu.get(i).gradData(), dev.get(i).gradData(), 1e-6, 0, "clipped grad " + i);
        double after = GradClip.globalNorm(dev);
        assertEquals(1.0, after, 1e-5, "norm after clipping");
    }

    /** The device parameters hold exactly the CPU parameters' weights (bit for bit). */
    private static void assertSameWeights(List<Parameter> cpu, List<Parameter> dev) {
        for (int i = 0; i < cpu.size(); i++) assertArrayEquals(cpu.get(i).data(), dev.get(i).data(), "weights " + cpu.get(i).name());
    }

    /** The same gradients into both parameter lists, then one step of each optimizer. */
    private static void stepBoth(AdamW oc, List<Parameter> cpu, AdamW od, List<Parameter> dev, List<float[]> g) {
        setGrads(cpu, g);
        setGrads(dev, g);
        oc.step();
        od.step();
    }
}

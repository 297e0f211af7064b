package io.r1kit.model.backend.device;

import io.r1kit.model.arch.ArchTestSupport;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.tensor.GradFn;
import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.DeviceStorage;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mixed precision ({@code CausalLM.precision(BF16)}) on {@link EmulatedDevice}: a training step
 * (forward, cross-entropy, backward, clipping, AdamW) against the fp32 step on the CPU, the bytes
 * of the activations the tape saves for the GEMMs' backward, and the transfers of each step.
 *
 * <p>Tolerances (step 1, from the same weights; measured worst in parentheses):
 * <ul>
 * <li>loss 1e-2 relative (1.3e-3): every projection's operands are rounded to bf16, relative error
 *     u = 2^-9 ≈ 2e-3 each, so each GEMM output carries ~2u of relative noise, and the loss moves by
 *     at most the logits' error; with 2 layers that stays well under 5u.</li>
 * <li>the bf16 run differs from fp32 (loss off by more than 1e-6 relative, i.e. more than the fp32
 *     device path's own 1 ulp): otherwise the bf16 path did not run.</li>
 * <li>each parameter's gradient within 6e-2 in relative L2 norm (2.2e-2): backward rounds the
 *     output gradient, the saved input and the weight (three roundings of u per product), and
 *     attention's softmax over O(1)-scale scores amplifies score errors; element-wise bounds are
 *     meaningless for gradients near zero, a norm bound is not.</li>
 * <li>weights after AdamW within 2·lr + 1e-6 element-wise (2.0e-2 = 2·lr): Adam's first update is
 *     ±lr per weight whatever the gradient's size, so a gradient whose sign flips under bf16 noise
 *     (a tiny one) moves its weight by 2·lr; and fewer than 5% of the weights differ by more than
 *     lr/10 (a sign flip needs a gradient within bf16 noise of 0).</li>
 * <li>the bf16 weight copy the next forward reads is exactly bf16(fp32 master) after each step.</li>
 * </ul>
 * Later steps start from different weights, so only their losses are compared ({@link
 * #lossTracksTheFp32RunOverTenSteps}).
 */
class MixedPrecisionStepTest {
    static final int B = 2, T = 6;

    /** The training step of {@link DeviceTrainingStepTest} (forward, loss read, backward, clipping, AdamW). */
    private static float step(CausalLM m, AdamW opt, int[] ids, int[] targets, byte[] keyMask) {
        return DeviceTrainingStepTest.step(m, opt, ids, targets, keyMask);
    }

    private static AdamW adamw(CausalLM m, float lr) {
        return new AdamW(AdamW.Config.defaults(lr), ParamGroup.decayMatricesOnly(m.parameters(), 0.1f));
    }

    private static CausalLM[] cpuAndBf16Device(ModelConfig cfg, EmulatedDevice emu) {
        CausalLM cpu = CausalLM.random(cfg, 11);
        ArchTestSupport.perturb(cpu, 12);
        CausalLM dev = cpu.copy();
        dev.moveTo(emu).precision(Precision.BF16);
        return new CausalLM[] {cpu, dev};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.r1kit.model.backend.device.DeviceTrainingStepTest#families")
    void bf16StepTracksTheFp32CpuStepAndCrossesOnlyAtTheEdges(String family, ModelConfig cfg, boolean masked) {
        EmulatedDevice emu = new EmulatedDevice();
        CausalLM[] m = cpuAndBf16Device(cfg, emu);
        CausalLM cpu = m[0], dev = m[1];
        int V = cfg.vocabSize();
        int[] ids = ArchTestSupport.randomIds(3, B * T, V), targets = ArchTestSupport.randomIds(4, B * T, V);
        byte[] keyMask = null;
        if (masked) {                        // row 1 right-padded by two, as DeviceTrainingStepTest
            keyMask = new byte[B * T];
            java.util.Arrays.fill(keyMask, (byte) 1);
            keyMask[2 * T - 1] = keyMask[2 * T - 2] = 0;
        }
        float lr = 1e-2f;
        AdamW optCpu = adamw(cpu, lr), optDev = adamw(dev, lr);
        List<Parameter> params = dev.parameters();
        for (int s = 0; s < 2; s++) {
            emu.transfers().reset();
            float lc = step(cpu, optCpu, ids, targets, keyMask);
            float ld = step(dev, optDev, ids.clone(), targets.clone(), keyMask == null ? null : keyMask.clone());
            // the same copies as the fp32 device step: the casts and bf16 GEMMs never cross
            DeviceTrainingStepTest.checkEdgeTransfers(emu.transfers(), s == 0, masked, family + " step " + s);
            emu.transfers().reset();
            for (Parameter p : params) if (p.readsBf16Copy()) assertCopyIsBf16OfMaster(emu, p, family + " step " + s);
            if (s > 0) continue;
            assertEquals(lc, ld, 1e-2 * lc, family + " loss");
            assertTrue(Math.abs(lc - ld) > 1e-6 * lc, family + ": the bf16 loss equals the fp32 one, the bf16 path did not run");
            for (int i = 0; i < params.size(); i++) {
                Parameter pc = cpu.parameters().get(i), pd = params.get(i);
                double rel = relNorm(pc.gradData(), pd.gradData());
                assertTrue(rel <= 6e-2, family + " grad " + pc.name() + ": relative L2 error " + rel);
                float[] wc = pc.data(), wd = pd.data();
                int far = 0;
                for (int j = 0; j < wc.length; j++) {
                    double d = Math.abs(wc[j] - wd[j]);
                    assertTrue(d <= 2 * lr + 1e-6, family + " weight " + pc.name() + "[" + j + "] off by " + d);
                    if (d > lr / 10) far++;
                }
                assertTrue(far <= 0.05 * wc.length + 1, family + " weight " + pc.name() + ": " + far + " of " + wc.length + " off by > lr/10");
            }
        }
        assertEquals(7L * cfg.numLayers(), params.stream().filter(Parameter::readsBf16Copy).count(),
                "the 7 projections of each layer read bf16 copies, nothing else");
    }

    private static void assertCopyIsBf16OfMaster(EmulatedDevice emu, Parameter p, String what) {
        float[] want = p.data();
        for (int j = 0; j < want.length; j++) want[j] = FloatFormats.roundToBf16(want[j]);
        DeviceArray back = emu.alloc(ElementType.F32, p.numel());
        emu.bf16ToF32(back, p.bf16Copy().array(), p.numel());
        float[] got = new float[p.numel()];
        emu.read(back, 0, got, 0, got.length, "test");
        assertArrayEquals(want, got, what + ": bf16 copy of " + p.name());
    }

    /**
     * The tape after the forward: the non-parameter inputs of the matmul nodes (what their backward
     * reads) take exactly 2 bytes per element where the model stores them in bf16 (the two norm
     * outputs and the SwiGLU output of every layer) and 4 where it does not (o_proj's input, which
     * attention's backward reads too, and the lm head's input): for this config (hidden 64,
     * q width 64, intermediate 96, 2 layers) 0.65 of the fp32 bytes (per layer 0.57 at Qwen2.5-1.5B's
     * 1536 / 1536 / 8960); the bytes saved by all ops together shrink by the same absolute amount.
     */
    @Test
    void theActivationsSavedForTheGemmsTakeBf16Bytes() {
        ModelConfig cfg = ArchTestSupport.llama3();
        EmulatedDevice emu = new EmulatedDevice();
        CausalLM[] m = cpuAndBf16Device(cfg, emu);
        CausalLM fp32 = m[0].copy().moveTo(emu), bf16 = m[1];
        int[] ids = ArchTestSupport.randomIds(3, B * T, cfg.vocabSize());
        long[] f = savedBytes(fp32.forward(ids, B, T, null, null)), h = savedBytes(bf16.forward(ids, B, T, null, null));
        long N = B * T, C = cfg.hiddenSize(), I = cfg.intermediateSize(), q = (long) cfg.numHeads() * cfg.headDim();
        long L = cfg.numLayers();
        // per layer: h (q/k/v), h2 (gate/up), act (down) in bf16; o_proj's input in fp32; plus the final norm output
        assertEquals(4 * N * (L * (C + C + I + q) + C), f[0], "fp32 matmul inputs");
        assertEquals(2 * N * L * (C + C + I) + 4 * N * (L * q + C), h[0], "bf16 matmul inputs");
        assertTrue(h[0] <= 0.66 * f[0], h[0] + " vs " + f[0]);
        assertEquals(f[1] - h[1], f[0] - h[0], "all saved inputs shrink by the matmul inputs' saving, nothing else changes");
    }

    /** {bytes of the distinct non-parameter inputs of matmul nodes, of all nodes} reachable from root. */
    private static long[] savedBytes(Tensor root) {
        Set<DeviceStorage> gemm = Collections.newSetFromMap(new IdentityHashMap<>()), all = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<GradFn> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<GradFn> todo = new ArrayDeque<>(List.of(root.gradFn()));
        while (!todo.isEmpty()) {
            GradFn n = todo.pop();
            if (!seen.add(n)) continue;
            for (Tensor in : n.inputs()) {
                if (in == null) continue;
                if (!(in instanceof Parameter)) {
                    all.add(in.storage());
                    if (n.name().equals("matmul")) gemm.add(in.storage());
                }
                if (in.gradFn() != null) todo.push(in.gradFn());
            }
        }
        return new long[] {bytes(gemm), bytes(all)};
    }

    private static long bytes(Set<DeviceStorage> s) {
        return s.stream().mapToLong(d -> d.array().length() * d.dtype().bytes).sum();
    }

    /**
     * Ten steps on one batch at lr 3e-3 from the same weights: the bf16 run's loss stays within 2%
     * of the fp32 CPU run's at every step (the trajectories separate by bf16 noise, ~u per step,
     * accumulating; measured worst 0.6%) and falls as much (both by more than half).
     */
    @Test
    void lossTracksTheFp32RunOverTenSteps() {
        ModelConfig cfg = ArchTestSupport.qwen2Tied();
        EmulatedDevice emu = new EmulatedDevice();
        CausalLM[] m = cpuAndBf16Device(cfg, emu);
        int[] ids = ArchTestSupport.randomIds(5, B * T, cfg.vocabSize()), targets = ArchTestSupport.randomIds(6, B * T, cfg.vocabSize());
        AdamW oc = adamw(m[0], 3e-3f), od = adamw(m[1], 3e-3f);
        float first = 0, lastC = 0, lastD = 0;
        for (int s = 0; s < 10; s++) {
            lastC = step(m[0], oc, ids, targets, null);
            lastD = step(m[1], od, ids.clone(), targets.clone(), null);
            if (s == 0) first = lastC;
            assertEquals(lastC, lastD, 2e-2 * lastC, "step " + s);
        }
        assertTrue(lastC < first / 2 && lastD < first / 2, "both runs learn: " + first + " -> " + lastC + " / " + lastD);
    }

    static double relNorm(float[] want, float[] got) {
        double d = 0, n = 0;
        for (int i = 0; i < want.length; i++) {
            d += (want[i] - got[i]) * (double) (want[i] - got[i]);
            n += want[i] * (double) want[i];
        }
        return Math.sqrt(d / Math.max(n, 1e-30));
    }
}

package io.r1kit.model.backend.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DeepseekV3TestModels;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code precision: bf16} on DeepSeek-V3 models ({@link EmulatedDevice}, which runs the CPU kernels
 * with bf16 storage): the main loss plus every MTP depth's loss and all gradients against the fp32
 * model on the host, for q_lora + yarn + 1 MTP module and plain q_proj + 2 shared experts + tied.
 *
 * <p>Tolerances, as {@link MixedPrecisionStepTest} states them for Llama / Qwen: the loss within
 * 1e-2 relative (every projection's operands are rounded to bf16, u = 2^-9 each); it must differ
 * from the fp32 loss by more than 1e-6 relative, or the bf16 path did not run; each parameter's
 * gradient within 6e-2 relative L2 norm (three bf16 roundings per product in backward, amplified
 * by softmax). The router stays fp32 and reads the fp32 hidden state, but bf16 noise upstream can
 * still move a token across a near-tie of expert scores, which changes gradients by tens of percent
 * (seen on the plain-q config with random biases); the gradient check therefore pins the routing
 * ({@link #pinRouting}), and {@link #lossStaysCloseWithUnpinnedRouting} checks the loss alone with
 * random biases.
 */
class DeepseekV3MixedPrecisionTest {
    static Batch batch(int vocab) {
        SplittableRandom r = new SplittableRandom(5);
        List<int[]> prompts = new ArrayList<>(), completions = new ArrayList<>();
        for (int b = 0; b < 3; b++) {
            prompts.add(r.ints(4 + b, 0, vocab).toArray());
            completions.add(r.ints(7 - b, 0, vocab).toArray());
        }
        return Batch.of(prompts, completions);
    }

    /** −(main + every MTP depth's summed log-probs) / the batch's target count, with backward run. */
    static float lossAndBackward(CausalLM m, Batch batch) {
        for (Parameter p : m.parameters()) p.zeroGrad();
        CausalLM.MtpScores s = m.scoreTokensWithMtp(batch);
        Tensor total = F.sum(s.main().logprobs());
        for (Tensor d : s.mtpLogprobs()) total = F.add(total, F.sum(d));
        int count = 0;
        for (int t : batch.targets()) if (t >= 0) count++;
        Tensor loss = F.scale(total, -1f / count);
        float value = loss.item();
        loss.backward();
        return value;
    }

    static double relNorm(float[] want, float[] got) {
        double d = 0, n = 0;
        for (int i = 0; i < want.length; i++) {
            d += (want[i] - got[i]) * (double) (want[i] - got[i]);
            n += want[i] * (double) want[i];
        }
        return Math.sqrt(d / Math.max(n, 1e-30));
    }

    /**
     * Correction biases of +2 on K experts spread over the first topk_group groups and 0 elsewhere:
     * sigmoid scores lie in (0, 1), so those groups and experts win by a margin of at least 1 for
     * every token, and bf16 noise cannot move a token to another expert (a moved token changes the
     * gradients of its experts and of everything below by far more than rounding; that is routing,
     * not precision). The weights still come from the unbiased scores.
     */
    static void pinRouting(CausalLM m) {
        var d = m.config().deepseek();
        int per = d.nRoutedExperts() / d.nGroup();
        for (Parameter b : m.buffers()) {
            float[] v = new float[b.numel()];
            for (int k = 0; k < d.numExpertsPerTok(); k++) {
                int g = k % d.topkGroup(), j = k / d.topkGroup();
                v[g * per + j] = 2f;
            }
            b.copyFrom(v);
        }
    }

    @Test
    void bf16TracksTheFp32HostModelWithMtp() {
        for (ModelConfig cfg : List.of(DeepseekV3TestModels.qloraYarnMtp(), DeepseekV3TestModels.plainQ())) {
            String what = cfg.deepseek().hasQLora() ? "qlora-yarn-mtp" : "plainq-tied";
            CausalLM cpu = DeepseekV3TestModels.model(cfg, 31);
            pinRouting(cpu);
            CausalLM dev = cpu.copy();
            EmulatedDevice emu = new EmulatedDevice();
            dev.moveTo(emu);
            Batch batch = batch(cfg.vocabSize());

            float lc = lossAndBackward(cpu, batch);
            float l32 = lossAndBackward(dev, batch);
            assertEquals(lc, l32, 1e-5 * Math.abs(lc), what + ": the fp32 device model computes the host's loss");

            dev.precision(Precision.BF16);
            assertEquals(Precision.BF16, dev.precision(), what);
            float ld = lossAndBackward(dev, batch);
            assertEquals(lc, ld, 1e-2 * Math.abs(lc), what + " loss");
            assertTrue(Math.abs(lc - ld) > 1e-6 * Math.abs(lc), what + ": the bf16 loss equals the fp32 one, the bf16 path did not run");
            double worst = 0;
            List<Parameter> pc = cpu.parameters(), pd = dev.parameters();
            for (int i = 0; i < pc.size(); i++) {
                float[] gc = pc.get(i).gradData(), gd = pd.get(i).gradData();
                // an expert no token chose has no gradient: it must be the same expert on both sides
                assertEquals(gc == null, gd == null, what + " " + pc.get(i).name() + ": chosen on one side only");
                if (gc == null) continue;
                double rel = relNorm(gc, gd);
                assertTrue(rel <= 6e-2, what + " grad " + pc.get(i).name() + ": relative L2 error " + rel);
                worst = Math.max(worst, rel);
            }
            System.out.printf("deepseek_v3 bf16 vs fp32 (%s): loss %.6f vs %.6f (rel %.2e), worst gradient rel L2 %.2e%n",
                    what, ld, lc, Math.abs(ld - lc) / Math.abs(lc), worst);

            // which parameters read bf16 copies: every projection; never the routers, norms, embedding or lm head
            for (Parameter p : pd) {
                String n = p.name();
                boolean projection = n.endsWith("_proj.weight") || n.endsWith("kv_a_proj_with_mqa.weight");
                assertEquals(projection, p.readsBf16Copy(), n);
            }
            assertTrue(pd.stream().anyMatch(p -> p.name().endsWith("eh_proj.weight") && p.readsBf16Copy()) || cfg.deepseek().numNextnPredictLayers() == 0,
                    what + ": the MTP module's eh_proj reads its bf16 copy");

            dev.moveToHost();
            assertEquals(Precision.FP32, dev.precision(), what + ": back on the host the model is fp32");
            assertFalse(dev.parameters().stream().anyMatch(Parameter::readsBf16Copy), what);
        }
    }

    @Test
    void lossStaysCloseWithUnpinnedRouting() {
        for (ModelConfig cfg : List.of(DeepseekV3TestModels.qloraYarnMtp(), DeepseekV3TestModels.plainQ())) {
            CausalLM cpu = DeepseekV3TestModels.model(cfg, 31);
            CausalLM dev = cpu.copy();
            dev.moveTo(new EmulatedDevice()).precision(Precision.BF16);
            Batch batch = batch(cfg.vocabSize());
            float lc = lossAndBackward(cpu, batch), ld = lossAndBackward(dev, batch);
            assertEquals(lc, ld, 1e-2 * Math.abs(lc), "loss with random correction biases");
        }
    }

    @Test
    void fp8IsRefusedForDeepseekRatherThanIgnored() {
        CausalLM m = DeepseekV3TestModels.model(DeepseekV3TestModels.plainQ(), 1);
        String msg = assertThrows(IllegalStateException.class, () -> m.precision(Precision.FP8)).getMessage();
        assertTrue(msg.contains("DeepSeek-V3") && msg.contains("fp8"), msg);
        String bf = assertThrows(IllegalStateException.class, () -> m.precision(Precision.BF16)).getMessage();
        assertTrue(bf.contains("device"), bf);
    }
}

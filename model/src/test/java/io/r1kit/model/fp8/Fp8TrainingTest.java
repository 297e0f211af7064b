package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.arch.Precision;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@code precision: fp8} on a whole model: the projections go through the FP8 GEMMs, the rest stays FP32. */
class Fp8TrainingTest {

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @Test
    void fp8ModelLossAndGradientsTrackFp32() {
        ModelConfig cfg = ModelConfig.llama(97, 160, 288, 2, 4, 2);
        CausalLM fp32 = CausalLM.random(cfg, 1);
        CausalLM fp8 = fp32.copy().precision(Precision.FP8);
        assertEquals(Precision.FP8, fp8.precision());
        assertEquals(Precision.FP8, fp8.copy().precision(), "a copy keeps the host model's fp8 precision");
        SplittableRandom r = new SplittableRandom(2);
        Batch batch = Batch.of(List.of(r.ints(9, 0, 97).toArray(), r.ints(4, 0, 97).toArray()),
                List.of(r.ints(12, 0, 97).toArray(), r.ints(17, 0, 97).toArray()));
        float l32 = F.sum(fp32.scoreTokens(batch, false).logprobs()).item();
        F.resetFp8SavedBytes();
        var lp8 = F.sum(fp8.scoreTokens(batch, false).logprobs());
        float l8 = lp8.item();
        // 2 layers x 7 projections, each saving its input (B*T rows of FP8) and its 128x128-block weight copy.
        assertTrue(F.fp8SavedBytes() > 0, "fp8 inputs saved for backward");
        assertTrue(Math.abs(l8 - l32) <= 1e-2 * Math.abs(l32), "summed log-prob fp8 " + l8 + " vs fp32 " + l32);
        assertTrue(l8 != l32, "the fp8 path really quantised");
        F.sum(fp32.scoreTokens(batch, false).logprobs()).backward();
        lp8.backward();
        for (Parameter p : fp8.parameters()) {
            float[] g32 = fp32.namedParameters().get(p.name()).gradData(), g8 = p.gradData();
            // Per-element errors of ~4% (E4M3) on each GEMM operand leave the gradient's direction nearly intact.
            assertTrue(cosine(g8, g32) > 0.99, p.name() + ": cosine " + cosine(g8, g32));
        }
    }

    @Test
    void precisionNamesParse() {
        assertEquals(Precision.FP8, Precision.parse("fp8"));
        assertEquals(Precision.FP8_TENSOR, Precision.parse("FP8_tensor"));
        assertEquals(Fp8Recipe.PER_TENSOR, Precision.FP8_TENSOR.fp8Recipe());
        assertEquals(null, Precision.BF16.fp8Recipe());
    }
}

package io.r1kit.model.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.DecoderLayer;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.fp8.Fp8Blocks;
import io.r1kit.model.fp8.Fp8Format;
import io.r1kit.model.hf.FloatFormats;
import io.r1kit.model.tensor.Parameter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Decoding with bf16 / fp8 projection weights: the vector kernels against their plain loops, and the whole step against fp32 on the rounded weights. */
class LowPrecisionDecodeTest {

    static float[] gaussian(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void vectorKernelsMatchTheirReferencesOnAwkwardShapes() {
        SplittableRandom r = new SplittableRandom(1);
        for (DecodePrecision p : new DecodePrecision[] {DecodePrecision.BF16, DecodePrecision.FP8}) {
            for (int[] s : new int[][] {{130, 200, 1}, {7, 13, 3}, {256, 384, 32}, {1, 1, 1}}) {
                int N = s[0], K = s[1], M = s[2];
                LowPrecisionWeights w = LowPrecisionWeights.of(gaussian(r, N * K), N, K, p);
                float[] in = gaussian(r, M * K), fast = new float[M * N], ref = new float[M * N];
                w.gemm(in, M, fast);
                w.gemmReference(in, M, ref);
                for (int i = 0; i < fast.length; i++) {
                    // same products, summed in another order (vector lanes vs one running sum): float rounding only
                    assertEquals(ref[i], fast[i], 1e-5 * Math.sqrt(K) * 4, p + " " + N + "x" + K + " M=" + M + " at " + i);
                }
            }
        }
        assertEquals(2L * 130 * 200, LowPrecisionWeights.of(new float[130 * 200], 130, 200, DecodePrecision.BF16).bytes());
        assertEquals(130L * 200 + 4 * 2 * 2, LowPrecisionWeights.of(new float[130 * 200], 130, 200, DecodePrecision.FP8).bytes());
    }

    @Test
    void decodeStepWithNarrowWeightsEqualsFp32OnTheRoundedWeights() {
        ModelConfig cfg = ModelConfig.qwen2(97, 160, 288, 2, 4, 2).withTieEmbeddings(true);
        CausalLM m = CausalLM.random(cfg, 3);
        for (DecodePrecision p : new DecodePrecision[] {DecodePrecision.BF16, DecodePrecision.FP8}) {
            CausalLM rounded = m.copy();
            for (DecoderLayer L : rounded.layers()) {
                for (Parameter w : new Parameter[] {L.qProj(), L.kProj(), L.vProj(), L.oProj(), L.gateProj(), L.upProj(), L.downProj()}) {
                    int[] sh = w.shape();
                    float[] d = w.data().clone();
                    if (p == DecodePrecision.BF16) for (int i = 0; i < d.length; i++) d[i] = FloatFormats.roundToBf16(d[i]);
                    else d = Fp8Blocks.weights(d, sh[0], sh[1], Fp8Format.E4M3).dequantize();
                    w.copyFrom(d);
                }
            }
            try (var ng = Grad.noGrad()) {
                int rows = 3;
                KvCache ca = new KvCache(cfg, rows), cb = new KvCache(cfg, rows);
                DecodeStep narrow = new DecodeStep(m, rows, p), ref = new DecodeStep(rounded, rows);
                int[] live = {0, 1, 2}, tok = {5, 17, 42};
                for (int r = 0; r < rows; r++) {
                    ca.allocate(r, 8);
                    cb.allocate(r, 8);
                }
                double maxDiff = 0;
                for (int t = 0; t < 6; t++) {
                    float[] a = narrow.step(ca, live, tok, rows).clone(), b = ref.step(cb, live, tok, rows);
                    for (int i = 0; i < rows * cfg.vocabSize(); i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
                    for (int r = 0; r < rows; r++) tok[r] = (tok[r] * 31 + t) % cfg.vocabSize();
                }
                // Same weights, different GEMM kernels (summation order): logits agree to float rounding.
                assertTrue(maxDiff < 1e-4, p + ": max logit difference " + maxDiff);
                assertTrue(narrow.weightBytesPerStep() < ref.weightBytesPerStep(), "narrow weights read fewer bytes");
            }
        }
    }
}

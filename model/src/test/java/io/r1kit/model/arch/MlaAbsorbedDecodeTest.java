package io.r1kit.model.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * MLA's absorbed decoding ({@link MlaAbsorbedDecode}): equal to the plain computation with per-head
 * keys and values to 1e-5 relative, a whole decode step through the compressed cache equal to the
 * training forward of {@link MlaAttention} at every position, and the cache size exact.
 *
 * <p>Tolerance: 1e-5 of the output's largest magnitude. {@code attend} and {@code attendExpanded}
 * both accumulate in double and round once, so they differ by float rounding (~1e-7); the layer
 * check compares a float32 training forward (sums of a few dozen float products, ~1e-6) with it.
 * Any algebra error (a transposed W_UK, the wrong head's rows, a missing rope or scale) moves the
 * output by ≫ 1e-3.
 */
class MlaAbsorbedDecodeTest {
    static final double REL = 1e-5;

    static double relativeDifference(float[] got, float[] want) {
        double diff = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(got[i] - want[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return diff / scale;
    }

    static float[] gaussian(SplittableRandom r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (std * r.nextGaussian());
        return x;
    }

    @Test
    void absorbedAttentionEqualsThePlainComputation() {
        SplittableRandom r = new SplittableRandom(1);
        List<MlaAbsorbedDecode.Dims> dims = List.of(new MlaAbsorbedDecode.Dims(4, 8, 8, 12, 16),
                new MlaAbsorbedDecode.Dims(3, 10, 6, 20, 12), new MlaAbsorbedDecode.Dims(2, 16, 4, 8, 32));
        for (MlaAbsorbedDecode.Dims d : dims) {
            for (int n : new int[] {1, 2, 7, 40}) {
                int H = d.heads();
                float[] qNope = gaussian(r, H * d.nope(), 1), qRope = gaussian(r, H * d.rope(), 1);
                float[] cKv = gaussian(r, n * d.rank(), 1), kRope = gaussian(r, n * d.rope(), 1);
                float[] kvB = gaussian(r, H * (d.nope() + d.v()) * d.rank(), 0.3);
                float scale = (float) (1 / Math.sqrt(d.nope() + d.rope()));
                float[] absorbed = MlaAbsorbedDecode.attend(qNope, qRope, cKv, kRope, n, kvB, d, scale);
                float[] plain = MlaAbsorbedDecode.attendExpanded(qNope, qRope, cKv, kRope, n, kvB, d, scale);
                double rel = relativeDifference(absorbed, plain);
                assertTrue(rel <= REL, d + " n=" + n + ": relative difference " + rel);
                System.out.printf("absorbed vs plain %s n=%d: %.2e%n", d, n, rel);
            }
        }
    }

    static RopeTables ropeOf(ModelConfig c) {
        return c.yarn() != null ? YarnRope.tables(c.headDim(), c.maxPositions(), c.ropeTheta(), c.yarn())
                : RopeTables.build(c.headDim(), c.maxPositions(), c.ropeTheta(), c.ropeScaling());
    }

    @Test
    void decodeStepsThroughTheCompressedCacheEqualTheTrainingForward() {
        for (ModelConfig cfg : List.of(DeepseekV3TestModels.qloraYarnMtp(), DeepseekV3TestModels.plainQ(), DeepseekV3TestModels.noSharedYarn())) {
            CausalLM m = DeepseekV3TestModels.model(cfg, 12);
            MlaAttention attn = m.deepseekLayers().get(0).attention();
            int T = 23, C = cfg.hiddenSize();
            float[] x = gaussian(new SplittableRandom(3), T * C, 1);
            RopeTables rope = ropeOf(cfg);
            float[] forward;
            try (var ng = Grad.noGrad()) {
                forward = attn.forward(Tensor.of(x, 1, T, C), 1, T, F.positions(1, T), null, rope).toArray();
            }
            MlaAbsorbedDecode.Dims d = MlaAbsorbedDecode.Dims.of(cfg);
            MlaAbsorbedDecode.Cache cache = new MlaAbsorbedDecode.Cache(d, T);
            float[] decoded = new float[T * C];
            for (int t = 0; t < T; t++) {
                float[] row = java.util.Arrays.copyOfRange(x, t * C, (t + 1) * C);
                System.arraycopy(MlaAbsorbedDecode.step(attn, cfg, row, t, rope, cache), 0, decoded, t * C, C);
            }
            double rel = relativeDifference(decoded, forward);
            assertTrue(rel <= REL, "q_lora " + cfg.deepseek().qLoraRank() + ": decode vs forward, relative difference " + rel);
            System.out.printf("decode through the cache vs training forward (q_lora %d): %.2e%n", cfg.deepseek().qLoraRank(), rel);
            assertEquals(T, cache.length());
            assertEquals((long) T * (d.rank() + d.rope()), cache.elements(), "only c_kv and k_rope are cached");
        }
    }

    @Test
    void cacheBytesPerTokenAreExact() {
        // DeepSeek-V3 / R1: 128 heads, nope 128, rope 64, v 128, kv_lora_rank 512, BF16 cache
        MlaAbsorbedDecode.Dims v3 = new MlaAbsorbedDecode.Dims(128, 128, 64, 128, 512);
        assertEquals(1152, MlaAbsorbedDecode.mlaCacheBytesPerToken(v3, 2), "(512 + 64) · 2 bytes");
        assertEquals(81920, MlaAbsorbedDecode.kvCacheBytesPerToken(v3, 128, 2), "MHA: 128 · (128 + 64 + 128) · 2 bytes");
        assertEquals(5120, MlaAbsorbedDecode.kvCacheBytesPerToken(v3, 8, 2), "GQA with 8 key/value heads");
        assertEquals(576, new MlaAbsorbedDecode.Cache(v3, 1).elementsPerToken());
        // the test configs: what the decode test's cache holds per token
        MlaAbsorbedDecode.Dims small = MlaAbsorbedDecode.Dims.of(DeepseekV3TestModels.qloraYarnMtp());
        assertEquals((16 + 8) * 4, MlaAbsorbedDecode.mlaCacheBytesPerToken(small, 4));
        assertEquals(4 * (8 + 8 + 12) * 4, MlaAbsorbedDecode.kvCacheBytesPerToken(small, 4, 4));
    }
}

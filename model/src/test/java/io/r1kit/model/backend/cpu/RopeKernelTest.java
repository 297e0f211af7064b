package io.r1kit.model.backend.cpu;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.backend.RopeTables.Scaling;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static io.r1kit.model.backend.cpu.KernelTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** RoPE kernel (fast vs reference, inverse = backward, vs libtorch) and the RopeTables values vs transformers' formulas. */
class RopeKernelTest {

    @Test
    void fastMatchesReferenceExactly() {
        Random rnd = new Random(20);
        int[][] shapes = {{1, 1, 2}, {7, 3, 14}, {33, 2, 34}, {5, 4, 64}, {129, 2, 130}, {3, 1, 256}};
        for (int[] s : shapes) {
            int R = s[0], H = s[1], D = s[2];
            RopeTables tab = RopeTables.build(D, 300, 10000, Scaling.none());
            float[] x = gaussian(rnd, R * H * D, 1);
            int[] pos = new int[R];
            for (int r = 0; r < R; r++) pos[r] = rnd.nextInt(300);
            for (boolean inverse : new boolean[] {false, true}) {
                float[] o1 = new float[x.length], o2 = new float[x.length];
                RopeKernel.rope(o1, x, pos, tab.cos(), tab.sin(), R, H, D, inverse);
                RopeKernel.ropeReference(o2, x, pos, tab.cos(), tab.sin(), R, H, D, inverse);
                // the same two products and one add/sub per element, no fusion in Java: bit-exact
                assertArrayEquals(o2, o1, "R=" + R + " H=" + H + " D=" + D + " inverse=" + inverse);
                // in place gives the same result
                float[] inPlace = x.clone();
                RopeKernel.rope(inPlace, inPlace, pos, tab.cos(), tab.sin(), R, H, D, inverse);
                assertArrayEquals(o1, inPlace, "in place R=" + R + " D=" + D);
            }
            // rotating back undoes the rotation (cos^2 + sin^2 = 1 up to float rounding)
            float[] y = new float[x.length], back = new float[x.length];
            RopeKernel.rope(y, x, pos, tab.cos(), tab.sin(), R, H, D, false);
            RopeKernel.rope(back, y, pos, tab.cos(), tab.sin(), R, H, D, true);
            assertClose("inverse(rope(x)) D=" + D, x, back, 1e-6, 1e-6);
        }
    }

    @Test
    void positionOutsideTableFailsClearly() {
        RopeTables tab = RopeTables.build(8, 10, 10000, Scaling.none());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RopeKernel.rope(new float[8], new float[8], new int[] {10}, tab.cos(), tab.sin(), 1, 1, 8, false));
        assertTrue(e.getMessage().contains("pos[0]=10"), e.getMessage());
    }

    @Test
    void referenceMatchesLibTorchForwardAndBackward() {
        Random rnd = new Random(21);
        int R = 9, H = 3, D = 18, maxPos = 40;
        RopeTables tab = RopeTables.build(D, maxPos, 10000, Scaling.none());
        float[] x = gaussian(rnd, R * H * D, 1), dout = gaussian(rnd, R * H * D, 1);
        int[] pos = new int[R];
        for (int r = 0; r < R; r++) pos[r] = rnd.nextInt(maxPos);
        float[] out = new float[x.length], dx = new float[x.length];
        RopeKernel.ropeReference(out, x, pos, tab.cos(), tab.sin(), R, H, D, false);
        RopeKernel.ropeReference(dx, dout, pos, tab.cos(), tab.sin(), R, H, D, true);   // backward
        int half = D / 2;
        float[] cosFull = new float[R * D], sinFull = new float[R * D];   // [R, D] = cat(cos, cos)
        for (int r = 0; r < R; r++) {
            for (int i = 0; i < half; i++) {
                cosFull[r * D + i] = cosFull[r * D + half + i] = tab.cos()[pos[r] * half + i];
                sinFull[r * D + i] = sinFull[r * D + half + i] = tab.sin()[pos[r] * half + i];
            }
        }
        try (NDManager m = torch()) {
            NDArray c = m.create(cosFull, new Shape(R, 1, D)), s = m.create(sinFull, new Shape(R, 1, D));
            TorchResult t = torchVjp(m, new float[][] {x}, new Shape[] {new Shape(R, H, D)}, dout, in -> {
                // transformers apply_rotary_pos_emb: x * cos + rotate_half(x) * sin
                NDArray x1 = in[0].get(new NDIndex(":, :, :" + half)), x2 = in[0].get(new NDIndex(":, :, " + half + ":"));
                NDArray rot = NDArrays.concat(new ai.djl.ndarray.NDList(x2.neg(), x1), 2);
                return in[0].mul(c).add(rot.mul(s));
            });
            // identical formula in fp32; torch may fuse or reorder the two products: 1 ulp-ish
            assertClose("forward vs torch", t.out(), out, 1e-6, 1e-6);
            assertClose("backward (inverse rotation) vs torch autograd", t.grads()[0], dx, 1e-6, 1e-6);
        }
    }

    @Test
    void defaultAndLlama3TablesMatchTransformersFormula() {
        int maxPos = 4096;
        checkTableAgainstTorch(64, maxPos, 10000, Scaling.none());
        checkTableAgainstTorch(128, maxPos, 500000, Scaling.llama3(8, 1, 4, 8192));
        // a small original context puts many frequencies in each of the three llama3 bands
        checkTableAgainstTorch(128, maxPos, 500000, Scaling.llama3(32, 1, 4, 256));
    }

    /**
     * transformers computes inv_freq and the angles in float32 (modeling_rope_utils:
     * _compute_default_rope_parameters / _compute_llama3_parameters, then
     * inv_freq @ position_ids in LlamaRotaryEmbedding); this recomputes them in libtorch the same way.
     */
    private static void checkTableAgainstTorch(int D, int maxPos, double theta, Scaling sc) {
        RopeTables tab = RopeTables.build(D, maxPos, theta, sc);
        int half = D / 2;
        try (NDManager m = torch()) {
            NDArray inv = m.create((float) theta).pow(m.arange(0, D, 2).toType(DataType.FLOAT32, false).div(D)).pow(-1);
            if (sc.type() == RopeTables.ScalingType.LLAMA3) {
                double lowWav = sc.originalMaxPositionEmbeddings() / sc.lowFreqFactor();
                double highWav = sc.originalMaxPositionEmbeddings() / sc.highFreqFactor();
                NDArray wavelen = inv.pow(-1).mul((float) (2 * Math.PI));
                NDArray invL = NDArrays.where(wavelen.gt(lowWav), inv.div(sc.factor()), inv);
                NDArray smooth = wavelen.pow(-1).mul(sc.originalMaxPositionEmbeddings()).sub(sc.lowFreqFactor())
                        .div(sc.highFreqFactor() - sc.lowFreqFactor());
                NDArray smoothed = smooth.neg().add(1).mul(invL).div(sc.factor()).add(smooth.mul(invL));
                NDArray medium = wavelen.lt(highWav).logicalNot().logicalAnd(wavelen.gt(lowWav).logicalNot());
                inv = NDArrays.where(medium, smoothed, invL);
                // our inv_freq (double) vs transformers' (float32): relative float rounding only
                float[] ours = new float[half];
                double[] invOurs = RopeTables.inverseFrequencies(D, theta, sc);
                for (int i = 0; i < half; i++) ours[i] = (float) invOurs[i];
                assertClose("llama3 inv_freq " + sc, inv.toFloatArray(), ours, 0, 1e-6);
            }
            NDArray angles = m.arange(0, maxPos).toType(DataType.FLOAT32, false).reshape(maxPos, 1).matMul(inv.reshape(1, half));
            float[] cosT = angles.cos().toFloatArray(), sinT = angles.sin().toFloatArray();
            // fp32 angle p * inv_freq carries ~1.5 float roundings (inv_freq, product): up to
            // ~p * 1e-7 rad at p < 4096 => ~4e-4. Compare each position with a bound that grows with p.
            for (int p = 0; p < maxPos; p++) {
                double tol = 2e-6 + 1.2e-7 * p;
                for (int i = 0; i < half; i++) {
                    int k = p * half + i;
                    assertEquals(cosT[k], tab.cos()[k], tol, "cos p=" + p + " i=" + i + " " + sc);
                    assertEquals(sinT[k], tab.sin()[k], tol, "sin p=" + p + " i=" + i + " " + sc);
                }
            }
        }
    }

    @Test
    void tablesAgainstDoubleFormula() {
        // default: cos(p * theta^(-2i/D)); linear: positions divided by the factor
        RopeTables def = RopeTables.build(10, 50, 10000, Scaling.none());
        RopeTables lin = RopeTables.build(10, 50, 10000, Scaling.linear(4));
        for (int p = 0; p < 50; p++) {
            for (int i = 0; i < 5; i++) {
                double inv = Math.pow(10000, -2.0 * i / 10);
                assertEquals((float) Math.cos(p * inv), def.cos()[p * 5 + i], 0f);
                assertEquals((float) Math.sin(p * inv), def.sin()[p * 5 + i], 0f);
                assertEquals((float) Math.cos(p / 4.0 * inv), lin.cos()[p * 5 + i], 0f);
            }
        }
        // llama3 bands by hand: theta=10, D=4 -> inv = {1, 1/sqrt(10)}, wavelens 2pi and 19.87;
        // original 40, low 1, high 4 -> high-freq cut 10, low-freq cut 40: first kept, second smoothed.
        double[] inv = RopeTables.inverseFrequencies(4, 10, Scaling.llama3(8, 1, 4, 40));
        assertEquals(1.0, inv[0], 1e-15);
        double i1 = 1 / Math.sqrt(10), smooth = (40 / (2 * Math.PI / i1) - 1) / 3;
        assertEquals((1 - smooth) * i1 / 8 + smooth * i1, inv[1], 1e-15);
        // and with original 4: both wavelengths exceed the low-freq cut (4) -> divided by factor
        double[] inv2 = RopeTables.inverseFrequencies(4, 10, Scaling.llama3(8, 1, 4, 4));
        assertEquals(1.0 / 8, inv2[0], 1e-15);
        assertEquals(i1 / 8, inv2[1], 1e-15);
    }

    @Test
    void scalingFromConfig() {
        assertEquals(Scaling.none(), Scaling.fromConfig(null));
        assertEquals(Scaling.linear(2), Scaling.fromConfig(Map.of("type", "linear", "factor", 2.0)));
        assertEquals(Scaling.llama3(8, 1, 4, 8192), Scaling.fromConfig(Map.of("rope_type", "llama3", "factor", 8.0,
                "low_freq_factor", 1.0, "high_freq_factor", 4.0, "original_max_position_embeddings", 8192)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Scaling.fromConfig(Map.of("rope_type", "yarn", "factor", 4.0)));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Scaling.fromConfig(Map.of("rope_type", "linear")));
        assertTrue(e.getMessage().contains("factor"), e.getMessage());
    }
}

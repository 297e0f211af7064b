package io.r1kit.model.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorMathTest {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static float[] exp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i + S.length() <= x.length; i += S.length()) {
            VectorMath.exp(FloatVector.fromArray(S, x, i)).intoArray(out, i);
        }
        return out;
    }

    @Test
    void expIsWithinTwoUlpOfTheExactValue() {
        SplittableRandom rng = new SplittableRandom(1);
        float[] x = new float[S.length() * 4096];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 175 - 87);
        float[] y = exp(x);
        for (int i = 0; i < x.length; i++) {
            double exact = Math.exp(x[i]);
            // 2 ulp: Cephes' polynomial is accurate to ~1 ulp; the two-part ln2 reduction adds < 1
            assertTrue(Math.abs(y[i] - exact) <= 2 * Math.ulp((float) exact), "exp(" + x[i] + ") = " + y[i] + " vs " + exact);
        }
    }

    @Test
    void expEdgeCases() {
        float[] x = new float[S.length()];
        float[] special = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, 1f, -100f, 100f, 88f, -87f};
        System.arraycopy(special, 0, x, 0, Math.min(special.length, x.length));
        float[] y = exp(x);
        assertEquals(0f, y[0]);
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertTrue(Float.isNaN(y[2]));
        assertEquals(1f, y[3]);
        assertEquals(1f, y[4]);
        if (S.length() >= 10) {
            assertEquals((float) Math.E, y[5], Math.ulp((float) Math.E));
            assertEquals(0f, y[6]);
            assertEquals(Float.POSITIVE_INFINITY, y[7]);
            assertEquals((float) Math.exp(88), y[8], 2 * Math.ulp((float) Math.exp(88)));
        }
    }

    @Test
    void lanesAreSummedInOrder() {
        float[] v = new float[S.length()];
        v[0] = 1e8f;
        for (int i = 1; i < v.length; i++) v[i] = 1f;   // in lane order each +1 is lost against 1e8
        float expected = v[0];
        for (int i = 1; i < v.length; i++) expected += v[i];
        assertEquals(expected, VectorMath.sum(FloatVector.fromArray(S, v, 0)));
    }

    @Test
    void everyVectorWidthSumsInLaneOrderBitForBit() {
        // the written-out 8- and 16-lane sums and the generic loop (4 lanes) against a plain
        // left-to-right float sum, on values of mixed magnitude where any other order differs
        java.util.Random r = new java.util.Random(5);
        for (var species : java.util.List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512)) {
            float[] v = new float[species.length()];
            for (int trial = 0; trial < 200; trial++) {
                for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
                float expected = 0f;
                for (float x : v) expected += x;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(VectorMath.sum(FloatVector.fromArray(species, v, 0))),
                        species + " " + java.util.Arrays.toString(v));
            }
        }
    }

    /**
     * The reason this class exists: a kernel must give the same bits cold (interpreted) and after
     * JIT warm-up, or a resumed run drifts from an uninterrupted one.
     */
    @Test
    void softmaxKernelGivesTheSameBitsBeforeAndAfterWarmUp() {
        SplittableRandom rng = new SplittableRandom(7);
        int n = 3, v = 1003;
        float[] x = new float[n * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian() * 4;
        int[] target = {5, 77, 1000};
        float[] coldOut = new float[n], coldLse = new float[n], coldEnt = new float[n], coldLse2 = new float[n];
        SoftmaxKernels.tokenLogProbsForward(coldOut, coldLse, x, target, n, v);
        SoftmaxKernels.entropyForward(coldEnt, coldLse2, x, n, v);
        float[] out = new float[n], lse = new float[n], ent = new float[n], lse2 = new float[n];
        for (int rep = 0; rep < 3000; rep++) {
            SoftmaxKernels.tokenLogProbsForward(out, lse, x, target, n, v);
            SoftmaxKernels.entropyForward(ent, lse2, x, n, v);
        }
        assertArrayEquals(coldOut, out);
        assertArrayEquals(coldLse, lse);
        assertArrayEquals(coldEnt, ent);
    }
}

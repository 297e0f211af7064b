package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Fp8BlocksTest {

    static float[] gaussian(SplittableRandom r, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * std);
        return x;
    }

    @Test
    void blockScalesComeFromEachBlocksAbsMaxOnRaggedShapes() {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 300, cols = 200; // 3x2 blocks, the last ones partial
        float[] x = gaussian(r, rows * cols, 0.02);
        x[5 * cols + 170] = 7f; // an outlier in block (0, 1) only
        Fp8Blocks q = Fp8Blocks.weights(x, rows, cols, Fp8Format.E4M3);
        assertEquals(3, q.rowBlocks());
        assertEquals(2, q.colBlocks());
        assertEquals(7f / 448f, q.scaleInv()[1]);
        for (int b = 0; b < 6; b++) {
            int i = b / 2, j = b % 2;
            float amax = 0;
            for (int rr = i * 128; rr < Math.min(rows, i * 128 + 128); rr++)
                for (int c = j * 128; c < Math.min(cols, j * 128 + 128); c++) amax = Math.max(amax, Math.abs(x[rr * cols + c]));
            assertEquals(amax / 448f, q.scaleInv()[b], "block " + b);
        }
        // Each element: code = encode(x / s) and the dequantised value = decode(code) * s.
        float[] d = q.dequantize();
        for (int k = 0; k < x.length; k++) {
            float s = q.scaleInv()[(k / cols / 128) * 2 + (k % cols) / 128];
            assertEquals(Fp8Format.E4M3.encode(x[k] / s), q.codes()[k] & 0xFF);
            assertEquals(Fp8Format.E4M3.decode(q.codes()[k]) * s, d[k]);
        }
        // The outlier only coarsens its own block: the other blocks keep E4M3's relative precision (2^-4).
        for (int k = 0; k < x.length; k++) {
            boolean outlierBlock = (k / cols) < 128 && (k % cols) >= 128;
            if (!outlierBlock && Math.abs(x[k]) > 1e-3) assertTrue(Math.abs(d[k] - x[k]) <= Math.abs(x[k]) / 16 + 1e-7, "element " + k);
        }
    }

    @Test
    void vectorQuantisationEqualsScalarTwin() {
        SplittableRandom r = new SplittableRandom(2);
        for (Fp8Format f : Fp8Format.values()) {
            for (int[] s : new int[][] {{1, 1}, {5, 130}, {129, 257}, {64, 128}}) {
                float[] x = gaussian(r, s[0] * s[1], 1.0);
                for (int[] b : new int[][] {{128, 128}, {1, 128}, {s[0], s[1]}, {3, 5}}) {
                    Fp8Blocks v = Fp8Blocks.quantize(x, s[0], s[1], b[0], b[1], f);
                    Fp8Blocks sc = Fp8Blocks.quantizeScalar(x, s[0], s[1], b[0], b[1], f);
                    assertEquals(sc, v);
                    assertArrayEquals(v.dequantizeScalar(), v.dequantize());
                }
            }
        }
    }

    @Test
    void fineGrainedScalesBeatPerTensorWithOutliers() {
        SplittableRandom r = new SplittableRandom(3);
        int rows = 256, cols = 512;
        float[] x = gaussian(r, rows * cols, 1.0);
        // A few activation outliers 1e5 times the typical value (V3's reason for tiles): one scale for the
        // tensor pushes the ordinary values into E4M3's subnormals; tiles keep them normal except in 8 tiles.
        for (int i = 0; i < 8; i++) x[r.nextInt(x.length)] = 1e5f;
        double errTile = relErr(x, Fp8Blocks.activations(x, rows, cols, Fp8Format.E4M3).dequantize());
        double errTensor = relErr(x, Fp8Blocks.perTensor(x, rows, cols, Fp8Format.E4M3).dequantize());
        assertTrue(errTile < 0.05, "1x128 tiles: relative error " + errTile);
        assertTrue(errTensor > 4 * errTile, "per-tensor " + errTensor + " vs tiles " + errTile);
    }

    static double relErr(float[] x, float[] y) {
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) {
            if (Math.abs(x[i]) > 100) continue; // the ordinary values only
            num += (double) (x[i] - y[i]) * (x[i] - y[i]);
            den += (double) x[i] * x[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void zeroBlocksAndBadLayoutsAreHandled() {
        Fp8Blocks z = Fp8Blocks.weights(new float[4 * 4], 4, 4, Fp8Format.E4M3);
        assertArrayEquals(new float[] {1f}, z.scaleInv());
        assertArrayEquals(new float[16], z.dequantize());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Fp8Blocks(Fp8Format.E4M3, 4, 4, 128, 128, new byte[16], new float[2]));
        assertTrue(e.getMessage().contains("needs 1 scales"), e.getMessage());
    }
}

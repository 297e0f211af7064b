package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API conversions give the same bits as their scalar twins, on every code and on awkward lengths. */
class Fp8ArraysTest {

    static float[] awkwardFloats(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = switch (i % 6) {
                case 0 -> Float.intBitsToFloat(r.nextInt());
                case 1 -> (float) r.nextGaussian();
                case 2 -> (float) (r.nextGaussian() * 1e-3);
                case 3 -> (float) (r.nextGaussian() * 1e3);
                case 4 -> new float[] {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE}[r.nextInt(6)];
                default -> (float) (r.nextDouble() * 500 - 250);
            };
        }
        return x;
    }

    @Test
    void vectorEncodeEqualsScalarTwin() {
        SplittableRandom r = new SplittableRandom(3);
        for (Fp8Format f : Fp8Format.values()) {
            for (int n : new int[] {0, 1, 7, 8, 15, 16, 17, 127, 128, 129, 1000}) {
                for (float scale : new float[] {1f, 0.37f, 1e-4f, 3e5f}) {
                    float[] x = awkwardFloats(r, n + 3);
                    byte[] v = new byte[n + 5], s = new byte[n + 5];
                    Fp8Arrays.encode(f, x, 3, v, 2, n, scale);
                    Fp8Arrays.encodeScalar(f, x, 3, s, 2, n, scale);
                    assertArrayEquals(s, v, f + " n=" + n + " scale=" + scale);
                }
            }
        }
    }

    @Test
    void vectorDecodeEqualsScalarTwinOnAllCodes() {
        for (Fp8Format f : Fp8Format.values()) {
            byte[] codes = new byte[256 + 13];
            for (int i = 0; i < codes.length; i++) codes[i] = (byte) (i * 37 + 5);
            for (int c = 0; c < 256; c++) codes[c] = (byte) c;
            for (float scale : new float[] {1f, 0.37f, -2f, 1e-30f}) {
                for (int off : new int[] {0, 1, 5}) {
                    int n = codes.length - off;
                    float[] v = new float[n], s = new float[n];
                    Fp8Arrays.decode(f, codes, off, v, 0, n, scale);
                    Fp8Arrays.decodeScalar(f, codes, off, s, 0, n, scale);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Float.floatToIntBits(s[i]), Float.floatToIntBits(v[i]), f + " code " + (codes[off + i] & 0xFF));
                    }
                }
            }
        }
    }

    @Test
    void absMaxMatchesAPlainLoop() {
        SplittableRandom r = new SplittableRandom(4);
        for (int n : new int[] {0, 1, 9, 128, 131}) {
            float[] x = new float[n];
            float m = 0;
            for (int i = 0; i < n; i++) {
                x[i] = (float) r.nextGaussian();
                m = Math.max(m, Math.abs(x[i]));
            }
            assertEquals(m, Fp8Arrays.absMax(x, 0, n));
        }
    }
}

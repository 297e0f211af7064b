package io.r1kit.model.fp8;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Conversions checked against a table-driven reference built independently of {@link Fp8Format}:
 * each code's value from its bit fields in double arithmetic (OCP FP8 spec), and encoding as "the
 * nearest entry of the sorted table of finite magnitudes, ties to the even code, beyond max → max".
 */
class Fp8FormatTest {

    /** Values of the 128 non-negative codes from the spec's formula (NaN/inf where the spec puts them). */
    static double[] specMagnitudes(Fp8Format f) {
        int eb = f == Fp8Format.E4M3 ? 4 : 5, mb = f == Fp8Format.E4M3 ? 3 : 2, bias = f == Fp8Format.E4M3 ? 7 : 15;
        double[] v = new double[128];
        for (int c = 0; c < 128; c++) {
            int e = c >> mb, m = c & ((1 << mb) - 1);
            if (f == Fp8Format.E4M3 && c == 0x7F) v[c] = Double.NaN;
            else if (f == Fp8Format.E5M2 && e == 31) v[c] = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            else if (e == 0) v[c] = m / Math.pow(2, mb) * Math.pow(2, 1 - bias);
            else v[c] = (1 + m / Math.pow(2, mb)) * Math.pow(2, e - bias);
        }
        return v;
    }

    /** Reference encoder: nearest finite magnitude (the table is increasing in the code), ties to even code. */
    static int referenceEncode(Fp8Format f, float x) {
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x80 : 0;
        if (Float.isNaN(x)) return sign | 0x7F;
        double[] t = specMagnitudes(f);
        int maxCode = 0;
        while (maxCode + 1 < 128 && Double.isFinite(t[maxCode + 1])) maxCode++;
        double a = Math.abs((double) x);
        if (a >= t[maxCode]) return sign | maxCode;
        int lo = 0;
        while (t[lo + 1] <= a) lo++;
        double dLo = a - t[lo], dHi = t[lo + 1] - a;
        int c = dLo < dHi ? lo : dHi < dLo ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
        return sign | c;
    }

    @Test
    void knownConstants() {
        assertEquals(448f, Fp8Format.E4M3.max());
        assertEquals(448f, Fp8Format.E4M3.decode(0x7E));
        assertEquals(57344f, Fp8Format.E5M2.decode(0x7B));
        assertEquals(0x1p-9f, Fp8Format.E4M3.decode(0x01), "smallest e4m3 subnormal");
        assertEquals(0x1p-16f, Fp8Format.E5M2.decode(0x01), "smallest e5m2 subnormal");
        assertEquals(1f, Fp8Format.E4M3.decode(0x38));
        assertEquals(1f, Fp8Format.E5M2.decode(0x3C));
        assertTrue(Float.isNaN(Fp8Format.E4M3.decode(0x7F)) && Float.isNaN(Fp8Format.E4M3.decode(0xFF)));
        assertEquals(Float.POSITIVE_INFINITY, Fp8Format.E5M2.decode(0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, Fp8Format.E5M2.decode(0xFC));
        // E4M3 has no infinity: 0x78 is the normal 256.
        assertEquals(256f, Fp8Format.E4M3.decode(0x78));
        // Saturation and NaN on encode.
        assertEquals(0x7E, Fp8Format.E4M3.encode(1e9f));
        assertEquals(0xFE, Fp8Format.E4M3.encode(Float.NEGATIVE_INFINITY));
        assertEquals(0x7B, Fp8Format.E5M2.encode(Float.POSITIVE_INFINITY));
        assertEquals(0x7F, Fp8Format.E4M3.encode(Float.NaN));
        assertEquals(0x80, Fp8Format.E4M3.encode(-0f));
        assertEquals(0x80, Fp8Format.E4M3.encode(-1e-30f), "underflow keeps the sign");
        // Ties to even: 464 is halfway between 448 and the missing 480 -> 448 (even); 0x1p-10 halfway between 0 and 2^-9 -> 0.
        assertEquals(0x7E, Fp8Format.E4M3.encode(464f));
        assertEquals(0x00, Fp8Format.E4M3.encode(0x1p-10f));
        assertEquals(0x02, Fp8Format.E4M3.encode(0x1.8p-9f), "1.5 * 2^-9 ties up to the even code 2");
        assertEquals(0x38, Fp8Format.E4M3.encode(1.0625f), "halfway between 1 and 1.125 -> 1 (even)");
        assertEquals(0x3A, Fp8Format.E4M3.encode(1.1875f), "halfway between 1.125 and 1.25 -> 1.25 (even)");
    }

    @Test
    void everyCodeDecodesToTheSpecValueAndEncodesBack() {
        for (Fp8Format f : Fp8Format.values()) {
            double[] t = specMagnitudes(f);
            for (int c = 0; c < 256; c++) {
                double expected = (c & 0x80) != 0 ? -t[c & 0x7F] : t[c & 0x7F];
                float v = f.decode(c);
                if (Double.isNaN(expected)) {
                    assertTrue(Float.isNaN(v), f + " code " + c);
                    assertEquals((c & 0x80) | 0x7F, f.encode(v) & 0xFF | (c & 0x80), f + " NaN code " + c);
                    continue;
                }
                assertEquals(expected, v, 0.0, f + " code " + c);
                int back = f.encode(v);
                if (Double.isInfinite(expected)) assertEquals((c & 0x80) | f.maxCode(), back, "inf saturates, code " + c);
                else assertEquals(c, back, f + " round trip of code " + c);
            }
        }
    }

    @Test
    void randomFloatsTiesAndSubnormalsMatchTheReference() {
        SplittableRandom r = new SplittableRandom(20);
        for (Fp8Format f : Fp8Format.values()) {
            double[] t = specMagnitudes(f);
            for (int i = 0; i < 40_000; i++) {
                float x = switch (i % 5) {
                    case 0 -> Float.intBitsToFloat(r.nextInt());                              // any bits: NaN, inf, huge, tiny
                    case 1 -> (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-20, 20))); // around the format's range
                    case 2 -> { // exact midpoints between neighbouring codes (ties), and their float neighbours
                        int c = r.nextInt(0, f.maxCode());
                        float mid = (float) ((t[c] + t[c + 1]) / 2);
                        yield switch (r.nextInt(3)) {
                            case 0 -> mid;
                            case 1 -> Math.nextUp(mid);
                            default -> Math.nextDown(mid);
                        } * (r.nextBoolean() ? 1 : -1);
                    }
                    case 3 -> (float) (r.nextDouble() * t[8] * (r.nextBoolean() ? 1 : -1));    // the subnormal range
                    default -> (float) (r.nextDouble() * 2 * f.max());                         // up to saturation
                };
                int expected = referenceEncode(f, x);
                assertEquals(expected, f.encode(x), () -> f + " x=" + x + " bits " + Integer.toHexString(Float.floatToRawIntBits(x)));
            }
        }
    }
}

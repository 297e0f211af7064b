package io.r1kit.model.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FloatFormatsTest {

    private static int bf16(float f) {
        return FloatFormats.floatToBf16(f) & 0xFFFF;
    }

    @Test
    void bf16RoundsToNearestEvenOnKnownValues() {
        // Values and expected bits as torch.tensor(x, dtype=torch.float32).to(torch.bfloat16) gives.
        assertEquals(0x3F80, bf16(1.0f));
        assertEquals(0x4049, bf16((float) Math.PI), "pi -> 3.140625");
        assertEquals(3.140625f, FloatFormats.roundToBf16((float) Math.PI));
        assertEquals(0x3EAB, bf16(1f / 3f), "1/3 = 0x3EAAAAAB rounds up");
        // Exact ties: 1 + 2^-8 lies halfway between 0x3F80 and 0x3F81 -> even (0x3F80);
        // 1 + 3*2^-8 lies halfway between 0x3F81 and 0x3F82 -> even (0x3F82).
        assertEquals(0x3F80, bf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals(0x3F82, bf16(Float.intBitsToFloat(0x3F818000)));
        // Just above / below a tie.
        assertEquals(0x3F81, bf16(Float.intBitsToFloat(0x3F808001)));
        assertEquals(0x3F80, bf16(Float.intBitsToFloat(0x3F807FFF)));
        // Sign, zero, infinities, overflow, subnormal underflow.
        assertEquals(0x8000, bf16(-0.0f));
        assertEquals(0xBF80, bf16(-1.0f));
        assertEquals(0x7F80, bf16(Float.POSITIVE_INFINITY));
        assertEquals(0xFF80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x7F80, bf16(Float.MAX_VALUE), "max float rounds up to +inf");
        assertEquals(0x0000, bf16(Float.MIN_VALUE));
        assertTrue(Float.isNaN(FloatFormats.roundToBf16(Float.NaN)));
        // A NaN whose payload sits only in the low 16 bits must not truncate to infinity.
        assertTrue(Float.isNaN(FloatFormats.roundToBf16(Float.intBitsToFloat(0x7F800001))));
    }

    @Test
    void bf16MatchesExactNearestEvenReference() {
        // Reference: pick the nearer of the two bf16 neighbours in double arithmetic, ties to even mantissa.
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 200_000; i++) {
            int bits = r.nextInt();
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || Float.isInfinite(f)) continue;
            int lo = bits & 0xFFFF_0000;      // truncation: the neighbour nearer zero
            int hi = lo + 0x1_0000;           // the neighbour away from zero (may be +-infinity)
            float fLo = Float.intBitsToFloat(lo);
            float fHi = Float.intBitsToFloat(hi);
            // Past the largest finite bf16, IEEE rounding treats infinity as one more step of the same size.
            double vHi = Float.isInfinite(fHi) ? 2.0 * fLo - Float.intBitsToFloat(lo - 0x1_0000) : fHi;
            double dLo = Math.abs((double) f - fLo);
            double dHi = Math.abs((double) f - vHi);
            int expected;
            if (dLo < dHi) expected = lo >>> 16;
            else if (dHi < dLo) expected = hi >>> 16;
            else expected = ((lo >>> 16) & 1) == 0 ? lo >>> 16 : hi >>> 16;
            assertEquals(expected & 0xFFFF, bf16(f), () -> "bits " + Integer.toHexString(bits));
        }
    }

    @Test
    void bf16WideningIsExactInverseOnRepresentableValues() {
        for (int b = 0; b < 0x10000; b++) {
            float f = FloatFormats.bf16ToFloat((short) b);
            if (Float.isNaN(f)) continue;
            assertEquals(b, bf16(f));
        }
    }

    @Test
    void f16KnownValues() {
        assertEquals(1.0f, FloatFormats.f16ToFloat((short) 0x3C00));
        assertEquals(65504f, FloatFormats.f16ToFloat((short) 0x7BFF));
        assertEquals(-2.0f, FloatFormats.f16ToFloat((short) 0xC000));
        assertEquals(0x3555, FloatFormats.floatToF16(1f / 3f) & 0xFFFF);
    }
}

package io.r1kit.model.hf;

/**
 * Conversions between float32 and the 16-bit formats stored in checkpoints. BF16 is the top half
 * of a float32, so widening is exact; narrowing rounds to nearest, ties to even, exactly as
 * PyTorch's {@code c10::BFloat16} does (NaN stays a quiet NaN with its sign, overflow becomes
 * infinity). F16 uses the JDK's IEEE conversions ({@link Float#float16ToFloat}).
 */
public final class FloatFormats {

    private FloatFormats() {}

    /** BF16 bits (low 16 bits of {@code bits}) to float32, exact. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** float32 to BF16 bits, rounding to nearest with ties to even. */
    public static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            // NaN: keep sign and top payload bits, force the quiet bit so it stays a NaN after truncation.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb; // adds half an ulp, plus one more on ties when the kept lsb is odd
        return (short) (rounded >>> 16);
    }

    /** float32 rounded to the nearest BF16 value and widened back: what a BF16 save/load round trip gives. */
    public static float roundToBf16(float value) {
        return bf16ToFloat(floatToBf16(value));
    }

    /** IEEE half-precision bits to float32, exact. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float32 to IEEE half-precision bits, round to nearest even. */
    public static short floatToF16(float value) {
        return Float.floatToFloat16(value);
    }
}

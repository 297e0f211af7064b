package io.r1kit.model.fp8;

import io.r1kit.model.hf.DType;
import java.util.Locale;

/**
 * The two 8-bit floating-point formats of the OCP FP8 specification, as CUDA, PyTorch and
 * safetensors name them.
 *
 * <ul>
 *   <li>{@link #E4M3}: 1 sign, 4 exponent (bias 7), 3 mantissa bits, the "fn" variant: no
 *       infinities, one NaN pattern per sign (S.1111.111), largest finite value 448, smallest
 *       subnormal 2^-9. PyTorch's {@code float8_e4m3fn}, safetensors' {@code F8_E4M3}.</li>
 *   <li>{@link #E5M2}: 1 sign, 5 exponent (bias 15), 2 mantissa bits, IEEE-like (the top byte of a
 *       half-precision float): infinities, NaNs, largest finite value 57344, smallest subnormal
 *       2^-16. PyTorch's {@code float8_e5m2}, safetensors' {@code F8_E5M2}.</li>
 * </ul>
 *
 * <p>Encoding rounds to nearest with ties to even and saturates: a finite value beyond the
 * largest finite one, and an infinity, become ±max (CUDA's {@code __NV_SATFINITE} mode, which
 * quantisation relies on); NaN stays NaN (code S.1111.111 in both formats). PyTorch's plain
 * {@code .to(float8_*)} cast differs only there: it turns overflow into NaN (e4m3fn) or
 * infinity (e5m2). Decoding is exact.
 */
public enum Fp8Format {
    E4M3(4, 3, 7, 448f, DType.F8_E4M3),
    E5M2(5, 2, 15, 57344f, DType.F8_E5M2);

    private final int expBits;
    private final int manBits;
    private final int bias;
    private final float max;
    private final DType dtype;
    private final float[] table = new float[256];

    Fp8Format(int expBits, int manBits, int bias, float max, DType dtype) {
        this.expBits = expBits;
        this.manBits = manBits;
        this.bias = bias;
        this.max = max;
        this.dtype = dtype;
        for (int c = 0; c < 256; c++) table[c] = decodeBits(c);
    }

    /** Exponent bits. */
    public int exponentBits() {
        return expBits;
    }

    /** Explicit mantissa bits. */
    public int mantissaBits() {
        return manBits;
    }

    /** Exponent bias. */
    public int bias() {
        return bias;
    }

    /** Largest finite value (448 or 57344). */
    public float max() {
        return max;
    }

    /** The code of +max (0x7E or 0x7B). */
    public int maxCode() {
        return this == E4M3 ? 0x7E : 0x7B;
    }

    /** The safetensors dtype storing this format. */
    public DType dtype() {
        return dtype;
    }

    /** Exponent of the smallest normal value (1 - bias). */
    int minNormalExponent() {
        return 1 - bias;
    }

    /** The format stored as {@code dtype}, or null when it is not an FP8 dtype. */
    public static Fp8Format of(DType dtype) {
        return switch (dtype) {
            case F8_E4M3 -> E4M3;
            case F8_E5M2 -> E5M2;
            default -> null;
        };
    }

    /** "e4m3" (also "e4m3fn", "fp8_e4m3") or "e5m2", as written in configs ({@code quantization_config.fmt}). */
    public static Fp8Format parse(String s) {
        return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
            case "e4m3", "e4m3fn", "fp8_e4m3", "float8_e4m3fn" -> E4M3;
            case "e5m2", "fp8_e5m2", "float8_e5m2" -> E5M2;
            default -> throw new IllegalArgumentException("fp8 format must be e4m3 or e5m2, got '" + s + "'");
        };
    }

    /** The value of an 8-bit code (low 8 bits of {@code code}), exact. */
    public float decode(int code) {
        return table[code & 0xFF];
    }

    // Runs in the constructor, before the constants are assigned: tells the formats apart by expBits.
    private float decodeBits(int code) {
        int sign = (code >>> 7) & 1;
        int exp = (code >>> manBits) & ((1 << expBits) - 1);
        int man = code & ((1 << manBits) - 1);
        float v;
        if (expBits == 4 && exp == 15 && man == 7) v = Float.NaN;
        else if (expBits == 5 && exp == 31) v = man == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        else if (exp == 0) v = Math.scalb((float) man, 1 - bias - manBits);
        else v = Math.scalb((float) ((1 << manBits) + man), exp - bias - manBits);
        return sign == 1 ? -v : v;
    }

    /**
     * The code nearest to {@code x}, ties to even, saturating at ±max; NaN gives S.1111.111.
     * Returned in the low 8 bits.
     */
    public int encode(float x) {
        int bits = Float.floatToRawIntBits(x);
        int sign = (bits >>> 24) & 0x80;
        if (Float.isNaN(x)) return sign | 0x7F;
        float a = Math.abs(x);
        if (a >= max) return sign | maxCode(); // also infinities
        // The quantum at a's binade (or the subnormal quantum below the normal range) is
        // 2^(e - manBits); a / quantum is exact, and rint rounds it to nearest-even.
        int e = Math.max(Math.getExponent(a), minNormalExponent());
        int q = (int) Math.rint(Math.scalb(a, manBits - e));
        // q in [0, 2^(manBits+1)]; a carry out of the mantissa lands in the exponent field, and at
        // e = 1 - bias a q below 2^manBits is the subnormal code itself.
        return sign | (((e + bias - 1) << manBits) + q);
    }

    /** {@code x} rounded to this format and widened back. */
    public float round(float x) {
        return decode(encode(x));
    }
}

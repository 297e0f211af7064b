package io.r1kit.model.fp8;

import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whole-array FP8 conversion: {@link #encode} divides by a scale and rounds to FP8 codes,
 * {@link #decode} widens codes and multiplies by a scale, both with the Vector API; the
 * {@code *Scalar} twins do the same one element at a time through {@link Fp8Format} and are the
 * reference the vector paths are tested against (equal bits on every input, NaN included).
 *
 * <p>The division (not a multiplication by the reciprocal) is what DeepSeek-V3's quantisation
 * kernels do ({@code y = x / s}); keeping it makes the codes match theirs for the same scale.
 */
public final class Fp8Arrays {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BS = VectorSpecies.of(byte.class, VectorShape.forBitSize(FS.length() * 8));
    private static final float ROUND = 12582912f; // 1.5·2^23: x + ROUND - ROUND rounds |x| < 2^22 to an integer, ties to even

    private Fp8Arrays() {}

    /** {@code dst[dOff+i] = fmt.encode(src[sOff+i] / scale)} for i in [0, n), vectorised. */
    public static void encode(Fp8Format fmt, float[] src, int sOff, byte[] dst, int dOff, int n, float scale) {
        Objects.checkFromIndexSize(sOff, n, src.length);
        Objects.checkFromIndexSize(dOff, n, dst.length);
        int m = fmt.mantissaBits(), emin = fmt.minNormalExponent(), bias = fmt.bias();
        int maxCode = fmt.maxCode();
        float max = fmt.max();
        int i = 0;
        int upper = FS.loopBound(n);
        for (; i < upper; i += FS.length()) {
            FloatVector x = FloatVector.fromArray(FS, src, sOff + i).div(scale);
            IntVector bits = x.reinterpretAsInts();
            IntVector sign = bits.lanewise(VectorOperators.LSHR, 24).and(0x80);
            FloatVector a = x.abs();
            // Exponent of a (floor log2, -127 for zero and float subnormals), clamped to the normal range.
            IntVector e = a.reinterpretAsInts().lanewise(VectorOperators.LSHR, 23).sub(127).max(emin);
            // 2^(m - e), built from its bits; m - e stays within the normal float exponents.
            FloatVector pow = e.neg().add(m + 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector q = a.mul(pow).add(ROUND).sub(ROUND);
            IntVector code = e.add(bias - 1).lanewise(VectorOperators.LSHL, m)
                    .add((IntVector) q.convert(VectorOperators.F2I, 0));
            VectorMask<Integer> sat = a.compare(VectorOperators.GE, max).cast(IS);
            code = code.blend(maxCode, sat);
            VectorMask<Integer> nan = x.test(VectorOperators.IS_NAN).cast(IS);
            code = code.blend(0x7F, nan).or(sign);
            ((ByteVector) code.convertShape(VectorOperators.I2B, BS, 0)).intoArray(dst, dOff + i);
        }
        encodeScalar(fmt, src, sOff + i, dst, dOff + i, n - i, scale);
    }

    /** The scalar twin of {@link #encode}. */
    public static void encodeScalar(Fp8Format fmt, float[] src, int sOff, byte[] dst, int dOff, int n, float scale) {
        Objects.checkFromIndexSize(sOff, n, src.length);
        Objects.checkFromIndexSize(dOff, n, dst.length);
        for (int i = 0; i < n; i++) dst[dOff + i] = (byte) fmt.encode(src[sOff + i] / scale);
    }

    /** {@code dst[dOff+i] = fmt.decode(src[sOff+i]) * scale} for i in [0, n), vectorised. */
    public static void decode(Fp8Format fmt, byte[] src, int sOff, float[] dst, int dOff, int n, float scale) {
        Objects.checkFromIndexSize(sOff, n, src.length);
        Objects.checkFromIndexSize(dOff, n, dst.length);
        int m = fmt.mantissaBits(), expMask = (1 << fmt.exponentBits()) - 1, bias = fmt.bias();
        int i = 0;
        int upper = FS.loopBound(n);
        for (; i < upper; i += FS.length()) {
            IntVector c = ((IntVector) ByteVector.fromArray(BS, src, sOff + i).convertShape(VectorOperators.B2I, IS, 0)).and(0xFF);
            IntVector exp = c.lanewise(VectorOperators.LSHR, m).and(expMask);
            IntVector man = c.and((1 << m) - 1);
            VectorMask<Integer> normal = exp.compare(VectorOperators.NE, 0);
            // value = significand · 2^(max(exp, 1) - bias - m); significand has the implicit bit when normal.
            IntVector sig = man.blend(man.or(1 << m), normal);
            FloatVector pow = exp.max(1).add(127 - bias - m).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector v = ((FloatVector) sig.convert(VectorOperators.I2F, 0)).mul(pow);
            if (fmt == Fp8Format.E4M3) {
                v = v.blend(Float.NaN, c.and(0x7F).compare(VectorOperators.EQ, 0x7F).cast(FS));
            } else {
                VectorMask<Integer> special = exp.compare(VectorOperators.EQ, expMask);
                VectorMask<Integer> zeroMan = man.compare(VectorOperators.EQ, 0);
                v = v.blend(Float.NaN, special.andNot(zeroMan).cast(FS))
                        .blend(Float.POSITIVE_INFINITY, special.and(zeroMan).cast(FS));
            }
            IntVector sign = c.and(0x80).lanewise(VectorOperators.LSHL, 24);
            v = v.reinterpretAsInts().or(sign).reinterpretAsFloats().mul(scale);
            v.intoArray(dst, dOff + i);
        }
        decodeScalar(fmt, src, sOff + i, dst, dOff + i, n - i, scale);
    }

    /** The scalar twin of {@link #decode}. */
    public static void decodeScalar(Fp8Format fmt, byte[] src, int sOff, float[] dst, int dOff, int n, float scale) {
        Objects.checkFromIndexSize(sOff, n, src.length);
        Objects.checkFromIndexSize(dOff, n, dst.length);
        for (int i = 0; i < n; i++) dst[dOff + i] = fmt.decode(src[sOff + i]) * scale;
    }

    /** max |src[off+i]| over i in [0, n) (0 for n = 0; NaN if any element is NaN). */
    public static float absMax(float[] src, int off, int n) {
        Objects.checkFromIndexSize(off, n, src.length);
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        int upper = FS.loopBound(n);
        for (; i < upper; i += FS.length()) acc = acc.max(FloatVector.fromArray(FS, src, off + i).abs());
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, Math.abs(src[off + i]));
        return m;
    }
}

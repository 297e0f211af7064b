package io.r1kit.model.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Deterministic replacements for the two Vector API operations whose results depend on how the
 * code happens to be compiled: {@code reduceLanes(ADD)} (the summation order is unspecified and
 * differs between the interpreter, C1 and C2) and {@code lanewise(EXP)} (C2 calls a vendor math
 * stub, the interpreter a Java fallback; they differ in the last ulp). With them a kernel gives the
 * same bits before and after JIT warm-up, so a resumed run continues exactly like an
 * uninterrupted one. Everything here uses only IEEE-exact lane operations (add, mul, fma,
 * conversions, shifts).
 */
final class VectorMath {
    private VectorMath() {}

    /**
     * Sum of the lanes, always in lane order 0, 1, 2, … The common widths are written out with
     * constant lane indices: C2 turns {@code lane(k)} with a constant k into one or two register
     * extracts, while the loop's variable index took ~2.5x longer (9.3 vs 3.5 ns per 8-lane sum
     * on Zen 3); the additions and their order are the same, so the result is bit-identical.
     */
    static float sum(FloatVector v) {
        if (v.length() == 8) {
            return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
        }
        if (v.length() == 16) {
            return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7)
                    + v.lane(8) + v.lane(9) + v.lane(10) + v.lane(11) + v.lane(12) + v.lane(13) + v.lane(14) + v.lane(15);
        }
        float s = 0f;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    /** Sum of the lanes, always in lane order 0, 1, 2, … */
    static double sum(jdk.incubator.vector.DoubleVector v) {
        double s = 0;
        for (int i = 0; i < v.length(); i++) s += v.lane(i);
        return s;
    }

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;           // 1.5·2^23: adding it rounds to an integer
    private static final float MAX_X = 88.3762626647949f;   // exp overflows float above this
    private static final float MIN_X = -87.3365447505531f;  // exp is below the smallest normal below this

    /**
     * e^x per lane: Cephes' expf (range reduction by ln 2, degree-6 polynomial, exponent by bit
     * assembly), within 2 ulp of the exact value for normal results. -Infinity and anything whose
     * result would be subnormal give 0; +Infinity and overflow give +Infinity; NaN stays NaN.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(MIN_X).min(MAX_X);
        FloatVector n = xc.mul(LOG2E).add(ROUND).sub(ROUND);            // round(x / ln 2)
        FloatVector r = n.fma(n.broadcast(-LN2_HI), xc);                  // x − n·ln2, in two parts
        r = n.fma(n.broadcast(-LN2_LO), r);
        FloatVector p = r.broadcast(1.9875691500e-4f);
        p = p.fma(r, r.broadcast(1.3981999507e-3f));
        p = p.fma(r, r.broadcast(8.3334519073e-3f));
        p = p.fma(r, r.broadcast(4.1665795894e-2f));
        p = p.fma(r, r.broadcast(1.6666665459e-1f));
        p = p.fma(r, r.broadcast(5.0000001201e-1f));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);                  // e^r
        IntVector e = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = e.reinterpretAsFloats();                      // 2^n
        FloatVector out = y.mul(scale);
        VectorMask<Float> under = x.compare(VectorOperators.LT, MIN_X);
        VectorMask<Float> over = x.compare(VectorOperators.GT, MAX_X);
        return out.blend(0f, under).blend(Float.POSITIVE_INFINITY, over);
    }
}

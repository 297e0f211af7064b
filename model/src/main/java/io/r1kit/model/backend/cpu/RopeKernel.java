package io.r1kit.model.backend.cpu;

import io.r1kit.model.backend.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding, Hugging Face "rotate half" layout (see
 * {@link io.r1kit.model.backend.Backend#rope}); the cos/sin tables come from
 * {@link io.r1kit.model.backend.RopeTables}. For i < D/2, with c = cos[pos, i], s = sin[pos, i]:
 * out_i = x_i c - x_{i+D/2} s,  out_{i+D/2} = x_{i+D/2} c + x_i s.
 * {@code inverse} rotates by -theta (s -> -s), which is the transpose, i.e. the backward pass.
 * out may be the same array as x (in place): each pair is read before it is written.
 */
public final class RopeKernel {
    private RopeKernel() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    public static void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        check("rope", out, x, pos, cos, sin, R, H, D);
        Parallel.forRange(R, Math.max(1, Elementwise.GRAIN / Math.max(1, H * D)),
                (r0, r1) -> rotateRows(out, x, pos, cos, sin, H, D, inverse, r0, r1));
    }

    public static void ropeReference(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        check("ropeReference", out, x, pos, cos, sin, R, H, D);
        int half = D / 2;
        for (int r = 0; r < R; r++) {
            int p = pos[r];
            for (int h = 0; h < H; h++) {
                int base = (r * H + h) * D;
                for (int i = 0; i < half; i++) {
                    float c = cos[p * half + i];
                    float s = inverse ? -sin[p * half + i] : sin[p * half + i];
                    float x1 = x[base + i], x2 = x[base + half + i];
                    out[base + i] = x1 * c - x2 * s;
                    out[base + half + i] = x2 * c + x1 * s;
                }
            }
        }
    }

    /** Validates the shapes and that every position has a table row. */
    private static void check(String op, float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D) {
        KernelChecks.dims(op, "R, H, D", R, H, D);
        if (D % 2 != 0) throw new IllegalArgumentException(op + ": head dim D=" + D + " must be even");
        KernelChecks.Shape shape = () -> "[R=" + R + ",H=" + H + ",D=" + D + "]";
        KernelChecks.fits(op, "x", x, (long) R * H * D, shape);
        KernelChecks.fits(op, "out", out, (long) R * H * D, shape);
        KernelChecks.fits(op, "pos", pos, R, () -> "[R=" + R + "]");
        int half = D / 2;
        if (half == 0 || R == 0 || H == 0) return;
        if (cos == null || sin == null || cos.length != sin.length || cos.length % half != 0) {
            throw new IllegalArgumentException(op + ": cos/sin tables must both be [maxPos, D/2=" + half
                    + "], got lengths " + (cos == null ? "null" : cos.length) + " and "
                    + (sin == null ? "null" : sin.length));
        }
        int maxPos = cos.length / half;
        for (int r = 0; r < R; r++) {
            if (pos[r] < 0 || pos[r] >= maxPos) {
                throw new IllegalArgumentException(op + ": pos[" + r + "]=" + pos[r] + " is outside the cos/sin tables [0, "
                        + maxPos + "); build RopeTables with a larger maxPos");
            }
        }
    }

    /** Rotates rows [r0, r1) (all heads). */
    private static void rotateRows(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int H, int D, boolean inverse, int r0, int r1) {
        int half = D / 2, rowSize = H * D;
        int upper = S.loopBound(half);
        for (int r = r0; r < r1; r++) {
            int tb = pos[r] * half;
            for (int h = 0; h < H; h++) {
                int base = r * rowSize + h * D;
                int i = 0;
                for (; i < upper; i += S.length()) {
                    FloatVector c = FloatVector.fromArray(S, cos, tb + i);
                    FloatVector s = FloatVector.fromArray(S, sin, tb + i);
                    if (inverse) s = s.neg();
                    FloatVector x1 = FloatVector.fromArray(S, x, base + i);
                    FloatVector x2 = FloatVector.fromArray(S, x, base + half + i);
                    x1.mul(c).sub(x2.mul(s)).intoArray(out, base + i);
                    x2.mul(c).add(x1.mul(s)).intoArray(out, base + half + i);
                }
                for (; i < half; i++) {
                    float c = cos[tb + i], s = inverse ? -sin[tb + i] : sin[tb + i];
                    float x1 = x[base + i], x2 = x[base + half + i];
                    out[base + i] = x1 * c - x2 * s;
                    out[base + half + i] = x2 * c + x1 * s;
                }
            }
        }
    }

}

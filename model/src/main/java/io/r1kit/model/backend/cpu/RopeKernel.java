package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class RopeKernel {
    private RopeKernel() {}

    public static void rope(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        throw new UnsupportedOperationException("not implemented yet: RopeKernel.rope");
    }

    public static void ropeReference(float[] out, float[] x, int[] pos, float[] cos, float[] sin, int R, int H, int D, boolean inverse) {
        throw new UnsupportedOperationException("not implemented yet: RopeKernel.ropeReference");
    }

}

package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class RmsNormKernel {
    private RmsNormKernel() {}

    public static void rmsnormForward(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        throw new UnsupportedOperationException("not implemented yet: RmsNormKernel.rmsnormForward");
    }

    public static void rmsnormForwardReference(float[] out, float[] rstd, float[] x, float[] w, int N, int C, float eps) {
        throw new UnsupportedOperationException("not implemented yet: RmsNormKernel.rmsnormForwardReference");
    }

    public static void rmsnormBackward(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: RmsNormKernel.rmsnormBackward");
    }

    public static void rmsnormBackwardReference(float[] dx, float[] dw, float[] dout, float[] x, float[] w, float[] rstd, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: RmsNormKernel.rmsnormBackwardReference");
    }

}

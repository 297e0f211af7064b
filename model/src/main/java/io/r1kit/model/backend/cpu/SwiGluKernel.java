package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class SwiGluKernel {
    private SwiGluKernel() {}

    public static void swigluForward(float[] out, float[] a, float[] b, int n) {
        throw new UnsupportedOperationException("not implemented yet: SwiGluKernel.swigluForward");
    }

    public static void swigluForwardReference(float[] out, float[] a, float[] b, int n) {
        throw new UnsupportedOperationException("not implemented yet: SwiGluKernel.swigluForwardReference");
    }

    public static void swigluBackward(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        throw new UnsupportedOperationException("not implemented yet: SwiGluKernel.swigluBackward");
    }

    public static void swigluBackwardReference(float[] da, float[] db, float[] dout, float[] a, float[] b, int n) {
        throw new UnsupportedOperationException("not implemented yet: SwiGluKernel.swigluBackwardReference");
    }

}

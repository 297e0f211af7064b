package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class AdamWKernel {
    private AdamWKernel() {}

    public static void adamw(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) {
        throw new UnsupportedOperationException("not implemented yet: AdamWKernel.adamw");
    }

    public static void adamwReference(float[] p, float[] g, float[] m, float[] v, int n, float lr, float beta1, float beta2, float eps, float weightDecay, float bc1, float bc2) {
        throw new UnsupportedOperationException("not implemented yet: AdamWKernel.adamwReference");
    }

}

package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class EmbeddingKernel {
    private EmbeddingKernel() {}

    public static void embeddingForward(float[] out, float[] table, int[] ids, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: EmbeddingKernel.embeddingForward");
    }

    public static void embeddingForwardReference(float[] out, float[] table, int[] ids, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: EmbeddingKernel.embeddingForwardReference");
    }

    public static void embeddingBackward(float[] dtable, float[] dout, int[] ids, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: EmbeddingKernel.embeddingBackward");
    }

    public static void embeddingBackwardReference(float[] dtable, float[] dout, int[] ids, int N, int C) {
        throw new UnsupportedOperationException("not implemented yet: EmbeddingKernel.embeddingBackwardReference");
    }

}

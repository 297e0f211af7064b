package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class SoftmaxKernels {
    private SoftmaxKernels() {}

    public static void softmaxForward(float[] out, float[] x, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.softmaxForward");
    }

    public static void softmaxForwardReference(float[] out, float[] x, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.softmaxForwardReference");
    }

    public static void softmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.softmaxBackward");
    }

    public static void softmaxBackwardReference(float[] dx, float[] dy, float[] y, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.softmaxBackwardReference");
    }

    public static void logSoftmaxForward(float[] out, float[] x, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.logSoftmaxForward");
    }

    public static void logSoftmaxForwardReference(float[] out, float[] x, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.logSoftmaxForwardReference");
    }

    public static void logSoftmaxBackward(float[] dx, float[] dy, float[] y, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.logSoftmaxBackward");
    }

    public static void logSoftmaxBackwardReference(float[] dx, float[] dy, float[] y, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.logSoftmaxBackwardReference");
    }

    public static void tokenLogProbsForward(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.tokenLogProbsForward");
    }

    public static void tokenLogProbsForwardReference(float[] out, float[] lse, float[] logits, int[] target, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.tokenLogProbsForwardReference");
    }

    public static void tokenLogProbsBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.tokenLogProbsBackward");
    }

    public static void tokenLogProbsBackwardReference(float[] dlogits, float[] dout, float[] logits, float[] lse, int[] target, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.tokenLogProbsBackwardReference");
    }

    public static void entropyForward(float[] out, float[] lse, float[] logits, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.entropyForward");
    }

    public static void entropyForwardReference(float[] out, float[] lse, float[] logits, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.entropyForwardReference");
    }

    public static void entropyBackward(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.entropyBackward");
    }

    public static void entropyBackwardReference(float[] dlogits, float[] dout, float[] logits, float[] lse, float[] entropy, int N, int V) {
        throw new UnsupportedOperationException("not implemented yet: SoftmaxKernels.entropyBackwardReference");
    }

}

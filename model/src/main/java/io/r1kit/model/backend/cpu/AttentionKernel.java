package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class AttentionKernel {
    private AttentionKernel() {}

    public static void attentionForward(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        throw new UnsupportedOperationException("not implemented yet: AttentionKernel.attentionForward");
    }

    public static void attentionForwardReference(float[] out, float[] lse, float[] q, float[] k, float[] v, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        throw new UnsupportedOperationException("not implemented yet: AttentionKernel.attentionForwardReference");
    }

    public static void attentionBackward(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        throw new UnsupportedOperationException("not implemented yet: AttentionKernel.attentionBackward");
    }

    public static void attentionBackwardReference(float[] dq, float[] dk, float[] dv, float[] dout, float[] q, float[] k, float[] v, float[] out, float[] lse, byte[] keyMask, int B, int Tq, int Tk, int Hq, int Hkv, int D, int qStart, float scale) {
        throw new UnsupportedOperationException("not implemented yet: AttentionKernel.attentionBackwardReference");
    }

}

package io.r1kit.model.backend.cpu;

/** Kernels: see the matching methods of {@link io.r1kit.model.backend.Backend} for shapes and semantics. Fast path beside its scalar reference. */
public final class Elementwise {
    private Elementwise() {}

    public static void add(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.add");
    }

    public static void addReference(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.addReference");
    }

    public static void mul(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.mul");
    }

    public static void mulReference(float[] out, int oOff, float[] a, int aOff, float[] b, int bOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.mulReference");
    }

    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.axpy");
    }

    public static void axpyReference(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.axpyReference");
    }

    public static void scale(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.scale");
    }

    public static void scaleReference(float[] out, int oOff, float[] a, int aOff, float alpha, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.scaleReference");
    }

    public static double sum(float[] a, int aOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.sum");
    }

    public static double sumReference(float[] a, int aOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.sumReference");
    }

    public static double sumSquares(float[] a, int aOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.sumSquares");
    }

    public static double sumSquaresReference(float[] a, int aOff, int n) {
        throw new UnsupportedOperationException("not implemented yet: Elementwise.sumSquaresReference");
    }

}

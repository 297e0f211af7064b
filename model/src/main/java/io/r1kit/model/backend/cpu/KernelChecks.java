package io.r1kit.model.backend.cpu;

/**
 * Argument checks shared by the kernels in this package: a wrong shape must fail with a message
 * naming the kernel, the operand and what was expected, not with an ArrayIndexOutOfBounds deep
 * inside a vector loop (or, worse, silently read a neighbouring tensor).
 */
final class KernelChecks {
    private KernelChecks() {}

    /**
     * An operand's expected shape for the error message, e.g. {@code () -> "[N=" + N + "]"}, built
     * only when a check fails: these checks run on every kernel call, thousands per training step,
     * and building the strings eagerly was ~3% of a small model's pretraining (JFR).
     */
    @FunctionalInterface
    interface Shape {
        String text();
    }

    static void dims(String op, String names, int... dims) {
        for (int d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": negative dimension among " + names + " = "
                        + java.util.Arrays.toString(dims));
            }
        }
    }

    static void fits(String op, String name, float[] a, long off, long size, Shape shape) {
        if (size == 0) return;
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " " + shape.text() + " is null");
        if (off < 0 || off + size > a.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape.text() + " needs " + size
                    + " floats from offset " + off + " but its array has length " + a.length);
        }
    }

    static void fits(String op, String name, float[] a, long size, Shape shape) {
        fits(op, name, a, 0, size, shape);
    }

    static void fits(String op, String name, int[] a, long size, Shape shape) {
        if (size == 0) return;
        if (a == null) throw new IllegalArgumentException(op + ": " + name + " " + shape.text() + " is null");
        if (size > a.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape.text() + " needs " + size
                    + " ints but its array has length " + a.length);
        }
    }

    static void fits(String op, String name, byte[] a, long size, Shape shape) {
        if (size == 0 || a == null) return;   // a null byte mask means "all real"
        if (size > a.length) {
            throw new IllegalArgumentException(op + ": " + name + " " + shape.text() + " needs " + size
                    + " bytes but its array has length " + a.length);
        }
    }
}

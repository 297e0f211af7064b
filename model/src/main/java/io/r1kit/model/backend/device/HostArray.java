package io.r1kit.model.backend.device;

/**
 * An {@link EmulatedDevice} array: host memory of the element type (exactly one of the arrays is
 * non-null). Only {@link EmulatedDevice} touches the arrays, so a value can reach other host code
 * only through a counted {@link DeviceBackend#read}.
 */
final class HostArray implements DeviceArray {
    final EmulatedDevice owner;
    final ElementType type;
    final float[] f;     // F32
    final short[] h;     // BF16 raw bits
    final int[] i;       // I32
    final byte[] b;      // U8
    final double[] d;    // F64
    private volatile boolean closed;

    HostArray(EmulatedDevice owner, ElementType type, long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException("emu: cannot allocate " + n + " elements of " + type + " (host arrays hold < 2^31)");
        int len = (int) n;
        this.owner = owner;
        this.type = type;
        this.f = type == ElementType.F32 ? new float[len] : null;
        this.h = type == ElementType.BF16 ? new short[len] : null;
        this.i = type == ElementType.I32 ? new int[len] : null;
        this.b = type == ElementType.U8 ? new byte[len] : null;
        this.d = type == ElementType.F64 ? new double[len] : null;
    }

    @Override public ElementType type() { return type; }

    @Override public long length() {
        return switch (type) {
            case F32 -> f.length;
            case BF16 -> h.length;
            case I32 -> i.length;
            case U8 -> b.length;
            case F64 -> d.length;
        };
    }

    boolean closed() { return closed; }

    @Override public void close() { closed = true; }
}

package io.r1kit.model.backend.device;

/**
 * An array of a {@link HostMemoryDevice}: host memory of the element type (exactly one of the
 * arrays is non-null). Only its device touches the arrays (on an {@link EmulatedDevice} a value
 * reaches other host code only through a counted {@link DeviceBackend#read}; the
 * {@link HostDevice} wraps host tensors' own storage).
 */
final class HostArray implements DeviceArray {
    final HostMemoryDevice owner;
    final ElementType type;
    final float[] f;     // F32
    final short[] h;     // BF16 raw bits
    final int[] i;       // I32
    final byte[] b;      // U8
    final double[] d;    // F64
    private volatile boolean closed;

    HostArray(HostMemoryDevice owner, ElementType type, long n) {
        if (n < 0 || n > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(owner.name() + ": cannot allocate " + n + " elements of " + type + " (host arrays hold < 2^31)");
        int len = (int) n;
        this.owner = owner;
        this.type = type;
        this.f = type == ElementType.F32 ? new float[len] : null;
        this.h = type == ElementType.BF16 ? new short[len] : null;
        this.i = type == ElementType.I32 ? new int[len] : null;
        this.b = type == ElementType.U8 ? new byte[len] : null;
        this.d = type == ElementType.F64 ? new double[len] : null;
    }

    /** An F32 array over {@code values} (no copy). */
    HostArray(HostMemoryDevice owner, float[] values) {
        this.owner = owner;
        this.type = ElementType.F32;
        this.f = values;
        this.h = null;
        this.i = null;
        this.b = null;
        this.d = null;
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

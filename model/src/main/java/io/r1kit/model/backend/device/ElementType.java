package io.r1kit.model.backend.device;

/**
 * What one element of a {@link DeviceArray} is. Tensors live in F32 or BF16 (raw 16-bit bf16
 * patterns, the mixed-precision weight copy); I32 holds token ids / positions / targets, U8 key
 * masks, F64 the global sums of squares that grad clipping reads on the device.
 */
public enum ElementType {
    F32(4), BF16(2), I32(4), U8(1), F64(8);

    public final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }
}

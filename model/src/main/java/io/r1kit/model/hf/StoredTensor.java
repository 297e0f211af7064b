package io.r1kit.model.hf;

import java.util.Arrays;

/**
 * A tensor as it will be stored in a safetensors file: its dtype, and either float32 values
 * (written as F32, BF16 or F16) or one-byte codes written as they are (F8_E4M3, F8_E5M2, U8, I8).
 * Lets one file mix dtypes, as FP8 checkpoints do (FP8 weights, F32 scales, BF16 norms).
 */
public record StoredTensor(String name, DType dtype, int[] shape, float[] values, byte[] bytes) {

    public StoredTensor {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved in safetensors headers");
        shape = shape.clone();
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        boolean floatType = dtype == DType.F32 || dtype == DType.BF16 || dtype == DType.F16;
        if (floatType ? values == null || bytes != null : dtype.byteSize() != 1 || bytes == null || values != null) {
            throw new IllegalArgumentException("tensor '" + name + "': " + dtype + " is written from "
                    + (floatType ? "float values" : "one-byte codes") + " (F32/BF16/F16 from floats; F8_E4M3, F8_E5M2, U8, I8 from bytes)");
        }
        long len = floatType ? values.length : bytes.length;
        if (len != n) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n
                    + " elements but the data has " + len);
        }
    }

    /** Float values stored as {@code dtype} (F32, BF16 or F16). */
    public static StoredTensor ofFloats(NamedTensor t, DType dtype) {
        return new StoredTensor(t.name(), dtype, t.shape(), t.data(), null);
    }

    /** One-byte codes stored as they are. */
    public static StoredTensor ofBytes(String name, DType dtype, int[] shape, byte[] bytes) {
        return new StoredTensor(name, dtype, shape, null, bytes);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long numel() {
        return values != null ? values.length : bytes.length;
    }

    /** Bytes in the file. */
    public long byteSize() {
        return numel() * dtype.byteSize();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StoredTensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && Arrays.equals(values, t.values) && Arrays.equals(bytes, t.bytes);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}

package io.r1kit.model.hf;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor entry of a safetensors header, already validated: the shape matches the byte range
 * and the range lies inside the file's data section.
 *
 * @param name       the Hugging Face parameter name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
 * @param dtype      element type stored in the file
 * @param shape      dimensions, outermost first (empty for a scalar)
 * @param dataBegin  first byte, relative to the start of the data section
 * @param dataEnd    one past the last byte, relative to the start of the data section
 * @param file       the file holding the bytes
 */
public record TensorInfo(String name, DType dtype, int[] shape, long dataBegin, long dataEnd, Path file) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements (product of the shape; 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    /** Size of the stored bytes. */
    public long byteSize() {
        return dataEnd - dataBegin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype
                && Arrays.equals(shape, t.shape) && dataBegin == t.dataBegin && dataEnd == t.dataEnd
                && java.util.Objects.equals(file, t.file);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}

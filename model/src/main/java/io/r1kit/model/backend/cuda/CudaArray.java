package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.device.DeviceArray;
import io.r1kit.model.backend.device.ElementType;

/** A {@link DeviceArray} of a {@link CudaDeviceBackend}: a caching-allocator buffer and its element type. */
final class CudaArray implements DeviceArray {
    final CudaDeviceBackend owner;
    final DeviceBuffer buf;
    private final ElementType type;
    private final long length;

    CudaArray(CudaDeviceBackend owner, DeviceBuffer buf, ElementType type, long length) {
        this.owner = owner;
        this.buf = buf;
        this.type = type;
        this.length = length;
    }

    @Override public ElementType type() { return type; }

    @Override public long length() { return length; }

    @Override public void close() {
        synchronized (buf) {   // Cleaner thread vs. an explicit close; DeviceBuffer.close is idempotent
            buf.close();
        }
    }
}

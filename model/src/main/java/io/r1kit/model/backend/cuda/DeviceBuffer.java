package io.r1kit.model.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A block of device memory from a {@link CudaDevice}'s caching allocator. {@link #close()} returns
 * it to the cache (use try-with-resources for temporaries). {@code bytes} is what was asked for;
 * the block may be larger.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final DeviceApi owner;
    private final CachingAllocator.Block<CUdeviceptr> block;
    private final long bytes;
    private boolean closed;

    DeviceBuffer(DeviceApi owner, CachingAllocator.Block<CUdeviceptr> block, long bytes) {
        this.owner = owner;
        this.block = block;
        this.bytes = bytes;
    }

    public long bytes() { return bytes; }

    /** The device pointer (valid until closed). */
    public CUdeviceptr ptr() {
        if (closed) throw new IllegalStateException("DeviceBuffer used after close");
        return block.ptr();
    }

    /** The device pointer {@code elements} elements of {@code elementBytes} bytes in. */
    public CUdeviceptr at(long elements, int elementBytes) {
        return ptr().withByteOffset(elements * elementBytes);
    }

    CachingAllocator.Block<CUdeviceptr> block() { return block; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        owner.release(this);
    }
}

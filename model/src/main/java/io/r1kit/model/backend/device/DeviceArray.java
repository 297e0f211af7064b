package io.r1kit.model.backend.device;

/**
 * A block of device memory owned by one {@link DeviceBackend}: {@code length} elements of one
 * {@link ElementType}. Host code never reads it directly; values cross to the host only through
 * {@link DeviceBackend#read} (counted in {@link Transfers}). {@link #close()} returns the memory
 * (idempotent, callable from any thread: tensors free their storage through a Cleaner).
 */
public interface DeviceArray extends AutoCloseable {
    ElementType type();

    long length();

    @Override
    void close();
}

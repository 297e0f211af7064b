package io.r1kit.model.backend.device;

import io.r1kit.model.backend.Backend;
import io.r1kit.model.backend.CpuBackend;

/**
 * A pretend GPU for checking the device path without one: a {@link HostMemoryDevice} (host
 * memory, a host {@link Backend}'s kernels, the CPU kernels by default, so results match the CPU
 * path) whose arrays only it can read, and which counts every host↔device copy in
 * {@link #transfers()} exactly where a GPU would pay it. What it cannot check: the CUDA kernels
 * themselves (see EmulatedKernelsTest), cuBLAS, asynchrony, device memory limits.
 */
public final class EmulatedDevice extends HostMemoryDevice {
    private final Transfers transfers = new Transfers();
    private long allocations;

    /** On the CPU kernels. */
    public EmulatedDevice() {
        this(CpuBackend.INSTANCE);
    }

    public EmulatedDevice(Backend kernels) {
        super(() -> kernels);
    }

    @Override public String name() { return "emu"; }

    @Override public Transfers transfers() { return transfers; }

    @Override protected void transferred(Transfers.Direction direction, long bytes, String what) {
        transfers.record(direction, bytes, what);
    }

    @Override protected synchronized void allocated() { allocations++; }

    /** Arrays allocated so far (device allocations a step makes). */
    public synchronized long allocations() { return allocations; }
}

package io.r1kit.model.backend.cuda;

import jcuda.jcublas.cublasHandle;

/**
 * What {@link CudaOps} needs from a device: memory from the caching allocator, kernel launches on
 * the device's stream, a small download for reductions, and the cuBLAS handle. {@link CudaDevice}
 * is the real one; the test suite plugs in a recording fake to check, without a GPU, that every
 * launch passes arguments matching its kernel's C signature.
 */
interface DeviceApi {
    DeviceBuffer alloc(long bytes);

    void release(DeviceBuffer b);

    /**
     * Launches {@code k} with a (gx, gy, gz) grid of {@code block}-thread blocks and
     * {@code sharedBytes} of dynamic shared memory. {@code args} are the kernel's parameters in
     * order: DeviceBuffer / CUdeviceptr (a pointer; null = nullptr), Integer (int), Long (long long),
     * Float (float).
     */
    void launch(Kernel k, int gx, int gy, int gz, int block, int sharedBytes, Object... args);

    /** Grid size for a grid-stride elementwise kernel over n items with 256-thread blocks. */
    int elementwiseGrid(long n);

    void download(DeviceBuffer b, double[] dst, int n);

    cublasHandle cublas();

    // What CudaDeviceBackend needs beyond CudaOps: host<->device copies and memsets, ordered with the
    // launches. CudaDevice implements them; the launch-recording fake does not need them.

    default DeviceBuffer upload(float[] a, int off, int n) { throw unsupported("upload"); }

    default DeviceBuffer upload(int[] a, int n) { throw unsupported("upload"); }

    default DeviceBuffer upload(byte[] a, int n) { throw unsupported("upload"); }

    /** dst[dstOff, dstOff+n) = src[srcOff, srcOff+n) (floats), host to device. */
    default void write(DeviceBuffer dst, long dstOff, float[] src, int srcOff, int n) { throw unsupported("write"); }

    /** dst[off, off+n) = b[from, from+n) (floats), device to host. */
    default void download(DeviceBuffer b, long from, float[] dst, int off, int n) { throw unsupported("download"); }

    /** The first {@code bytes} of b set to zero. */
    default void zero(DeviceBuffer b, long bytes) { throw unsupported("zero"); }

    /** The first n 32-bit words of b set to {@code bits}. */
    default void fill32(DeviceBuffer b, int bits, long n) { throw unsupported("fill32"); }

    /** Makes the device's context current on the calling thread. */
    default void makeCurrent() {}

    private UnsupportedOperationException unsupported(String what) {
        return new UnsupportedOperationException(getClass().getSimpleName() + " does not implement " + what);
    }
}

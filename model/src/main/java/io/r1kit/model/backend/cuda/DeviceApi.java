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
}

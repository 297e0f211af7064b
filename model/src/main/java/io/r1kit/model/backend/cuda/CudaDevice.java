package io.r1kit.model.backend.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasStatus;
import jcuda.runtime.cudaStream_t;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One CUDA device: its primary context (shared with the CUDA runtime that cuBLAS uses), ONE
 * stream on which every kernel, GEMM and copy is ordered, a cuBLAS handle bound to that stream
 * (when cuBLAS loads; else r1kit's own GEMM kernels run), the caching allocator, the kernel modules
 * (the precompiled {@link AotKernels} loaded with cuModuleLoadData, or compiled by
 * {@link NvrtcCompiler} on first use, as {@link CudaPlan} decides) and events for timing.
 *
 * <p>Host transfers use the synchronous cuMemcpy calls on Java arrays: JCuda cannot pin a Java
 * array for an asynchronous copy, and the stream is created blocking (flags 0), so the legacy
 * default stream those copies run on is ordered with it. Calls are serialised by the owner
 * ({@link CudaBackend} methods are synchronized).
 */
public final class CudaDevice implements DeviceApi, AutoCloseable {
    public final int ordinal;
    public final String name;
    public final int computeCapability;     // major * 10 + minor
    public final int multiprocessors;
    public final long totalMemory;

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final cublasHandle cublas;      // null on the own-GEMM path
    private final CudaPlan plan;
    private final CachingAllocator<CUdeviceptr> allocator;
    private final NvrtcCompiler compiler;   // null when NVRTC did not load
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final List<String> compileLog = new ArrayList<>();

    CudaDevice(int ordinal) {
        CudaLibraries.Status st = CudaLibraries.status();
        if (!st.available()) throw new IllegalStateException("CUDA is not available: " + st.reason());
        JCudaDriver.setExceptionsEnabled(true);     // JCublas2 is touched only when cuBLAS loaded (its class init needs libcublas)
        this.ordinal = ordinal;
        JCudaDriver.cuDeviceGet(device, ordinal);
        byte[] nameBytes = new byte[256];
        JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device);
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) len++;
        this.name = new String(nameBytes, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
        this.computeCapability = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10
                + attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        long[] mem = new long[1];
        JCudaDriver.cuDeviceTotalMem(mem, device);
        this.totalMemory = mem[0];
        if (computeCapability < 80) {
            throw new IllegalStateException("CUDA device " + ordinal + " (" + name + ") has compute capability "
                    + computeCapability / 10 + "." + computeCapability % 10 + "; r1kit's bf16 kernels need 8.0 (Ampere) or newer");
        }
        this.plan = CudaPlan.choose(st, computeCapability, AotKernels.get());
        System.err.println(plan.line());
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuStreamCreate(stream, 0);
        if (plan.gemm() == CudaOps.GemmPath.CUBLAS) {
            JCublas2.setExceptionsEnabled(false);
            this.cublas = new cublasHandle();
            cublasCheck(JCublas2.cublasCreate(cublas), "cublasCreate");
            cublasCheck(JCublas2.cublasSetStream(cublas, new cudaStream_t(stream)), "cublasSetStream");
        } else {
            this.cublas = null;
        }
        this.allocator = new CachingAllocator<>(new CachingAllocator.Device<>() {
            @Override public CUdeviceptr alloc(long bytes) {
                CUdeviceptr p = new CUdeviceptr();
                JCudaDriver.setExceptionsEnabled(false);
                int rc;
                try {
                    rc = JCudaDriver.cuMemAlloc(p, bytes);
                } finally {
                    JCudaDriver.setExceptionsEnabled(true);
                }
                if (rc == CUresult.CUDA_ERROR_OUT_OF_MEMORY) throw new CachingAllocator.OutOfMemory(CUresult.stringFor(rc));
                if (rc != CUresult.CUDA_SUCCESS) throw new IllegalStateException("cuMemAlloc(" + bytes + "): " + CUresult.stringFor(rc));
                return p;
            }

            @Override public void free(CUdeviceptr ptr) {
                JCudaDriver.cuMemFree(ptr);
            }
        });
        this.compiler = st.nvrtc() ? new NvrtcCompiler(NvrtcCompiler.defaultCacheDir()) : null;
    }

    /** Where the kernels and GEMMs come from, and the line that said so. */
    public CudaPlan plan() { return plan; }

    private int attribute(int attr) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attr, device);
        return v[0];
    }

    static void cublasCheck(int status, String call) {
        if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
            throw new IllegalStateException(call + " failed: " + cublasStatus.stringFor(status));
        }
    }

    @Override public void makeCurrent() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    @Override public cublasHandle cublas() {
        if (cublas == null) throw new IllegalStateException("cuBLAS is not loaded on " + name + ": " + plan.line());
        return cublas;
    }

    // ------------------------------------------------------------------ memory

    @Override public DeviceBuffer alloc(long bytes) {
        return new DeviceBuffer(this, allocator.allocate(bytes), bytes);
    }

    @Override public void release(DeviceBuffer b) {
        allocator.release(b.block());
    }

    public CachingAllocator.Stats memoryStats() { return allocator.stats(); }

    public void emptyCache() { allocator.emptyCache(); }

    public void resetPeakMemory() { allocator.resetPeak(); }

    @Override public DeviceBuffer upload(float[] a, int off, int n) {
        DeviceBuffer b = alloc((long) n * Sizeof.FLOAT);
        if (n > 0) JCudaDriver.cuMemcpyHtoD(b.ptr(), Pointer.to(a).withByteOffset((long) off * Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
        return b;
    }

    @Override public DeviceBuffer upload(int[] a, int n) {
        DeviceBuffer b = alloc((long) n * Sizeof.INT);
        if (n > 0) JCudaDriver.cuMemcpyHtoD(b.ptr(), Pointer.to(a), (long) n * Sizeof.INT);
        return b;
    }

    @Override public DeviceBuffer upload(byte[] a, int n) {
        DeviceBuffer b = alloc(n);
        if (n > 0) JCudaDriver.cuMemcpyHtoD(b.ptr(), Pointer.to(a), n);
        return b;
    }

    public void download(DeviceBuffer b, float[] dst, int off, int n) {
        if (n > 0) JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT), b.ptr(), (long) n * Sizeof.FLOAT);
    }

    /** dst[off, off+n) = b[from, from+n) (floats). */
    @Override public void download(DeviceBuffer b, long from, float[] dst, int off, int n) {
        if (n > 0) JCudaDriver.cuMemcpyDtoH(Pointer.to(dst).withByteOffset((long) off * Sizeof.FLOAT), b.at(from, Sizeof.FLOAT), (long) n * Sizeof.FLOAT);
    }

    public void download(DeviceBuffer b, int[] dst, int n) {
        if (n > 0) JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), b.ptr(), (long) n * Sizeof.INT);
    }

    @Override public void download(DeviceBuffer b, double[] dst, int n) {
        if (n > 0) JCudaDriver.cuMemcpyDtoH(Pointer.to(dst), b.ptr(), (long) n * Sizeof.DOUBLE);
    }

    /** Sets the buffer's first {@code bytes} to zero (on the stream). */
    @Override public void zero(DeviceBuffer b, long bytes) {
        if (bytes > 0) JCudaDriver.cuMemsetD8Async(b.ptr(), (byte) 0, bytes, stream);
    }

    /** Sets the first n 32-bit words of the buffer to {@code bits} (on the stream), e.g. a float fill. */
    @Override public void fill32(DeviceBuffer b, int bits, long n) {
        if (n > 0) JCudaDriver.cuMemsetD32Async(b.ptr(), bits, n, stream);
    }

    /** dst[dstOff, dstOff+n) = src[srcOff, srcOff+n) (floats), host to device. */
    @Override public void write(DeviceBuffer dst, long dstOff, float[] src, int srcOff, int n) {
        if (n > 0) JCudaDriver.cuMemcpyHtoD(dst.at(dstOff, Sizeof.FLOAT), Pointer.to(src).withByteOffset((long) srcOff * Sizeof.FLOAT),
                (long) n * Sizeof.FLOAT);
    }

    public void synchronize() {
        JCudaDriver.cuStreamSynchronize(stream);
    }

    // ------------------------------------------------------------------ kernels

    private CUfunction function(Kernel k) {
        CUfunction f = functions.get(k);
        if (f != null) return f;
        CUmodule module = modules.computeIfAbsent(k.file, this::loadModule);
        f = new CUfunction();
        JCudaDriver.cuModuleGetFunction(f, module, k.entry);
        functions.put(k, f);
        return f;
    }

    private CUmodule loadModule(String file) {
        CUmodule m = new CUmodule();
        String aotFailure = null;
        if (plan.kernels() == CudaPlan.Kernels.PRECOMPILED) {
            JCudaDriver.setExceptionsEnabled(false);
            int rc;
            try {
                rc = JCudaDriver.cuModuleLoadData(m, AotKernels.get().image(file));
            } finally {
                JCudaDriver.setExceptionsEnabled(true);
            }
            if (rc == CUresult.CUDA_SUCCESS) {
                compileLog.add(file + " -> precompiled (" + AotKernels.coverage(computeCapability) + ")");
                return m;
            }
            // e.g. CUDA_ERROR_UNSUPPORTED_PTX_VERSION: a driver older than the nvcc that built the images
            aotFailure = "cuModuleLoadData(" + file + " precompiled by nvcc " + AotKernels.get().nvcc() + ") failed: "
                    + CUresult.stringFor(rc) + " (the precompiled kernels need a driver for CUDA 13, R580 or newer)";
            if (compiler == null) throw new IllegalStateException(aotFailure + ", and NVRTC is unavailable to compile them instead");
            System.err.println("r1kit cuda: " + aotFailure + "; compiling with NVRTC instead");
        }
        NvrtcCompiler.Image image = compiler.compile(file, computeCapability);
        compileLog.add(file + " -> " + image.target().option() + (image.fromCache() ? " (cached)" : " (compiled)")
                + (aotFailure == null ? "" : " after: " + aotFailure));
        JCudaDriver.cuModuleLoadData(m, image.bytes());
        return m;
    }

    /** Which modules were compiled or loaded from the cache, for diagnostics. */
    public List<String> compileLog() { return List.copyOf(compileLog); }

    @Override public void launch(Kernel k, int gx, int gy, int gz, int block, int sharedBytes, Object... args) {
        if (gx == 0 || gy == 0 || gz == 0) return;
        CUfunction f = function(k);
        if (sharedBytes > 48 * 1024) {
            JCudaDriver.cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
        }
        Pointer[] ps = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) ps[i] = Pointer.to(new CUdeviceptr());
            else if (a instanceof DeviceBuffer b) ps[i] = Pointer.to(b.ptr());
            else if (a instanceof CUdeviceptr p) ps[i] = Pointer.to(p);
            else if (a instanceof Integer v) ps[i] = Pointer.to(new int[] {v});
            else if (a instanceof Long v) ps[i] = Pointer.to(new long[] {v});
            else if (a instanceof Float v) ps[i] = Pointer.to(new float[] {v});
            else throw new IllegalArgumentException("kernel " + k.entry + ": unsupported argument type " + a.getClass());
        }
        JCudaDriver.cuLaunchKernel(f, gx, gy, gz, block, 1, 1, sharedBytes, stream, Pointer.to(ps), null);
    }

    @Override public int elementwiseGrid(long n) {
        long blocks = (n + 255) / 256;
        return (int) Math.max(1, Math.min(blocks, (long) multiprocessors * 32));
    }

    // ------------------------------------------------------------------ timing

    /** Runs {@code work} (which enqueues on this device) and returns its device time in ms, measured with events. */
    public float timeMs(Runnable work) {
        CUevent start = new CUevent(), stop = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(stop, 0);
        try {
            JCudaDriver.cuEventRecord(start, stream);
            work.run();
            JCudaDriver.cuEventRecord(stop, stream);
            JCudaDriver.cuEventSynchronize(stop);
            float[] ms = new float[1];
            JCudaDriver.cuEventElapsedTime(ms, start, stop);
            return ms[0];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    @Override
    public void close() {
        makeCurrent();
        synchronize();
        allocator.emptyCache();
        for (CUmodule m : modules.values()) JCudaDriver.cuModuleUnload(m);
        modules.clear();
        functions.clear();
        if (cublas != null) JCublas2.cublasDestroy(cublas);
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}

package io.r1kit.model.backend.cuda;

/**
 * Where a CUDA device's kernels and GEMMs come from, decided from what loaded
 * ({@link CudaLibraries.Status}), the device's architecture and the precompiled kernels
 * ({@link AotKernels}), with the one log line that says which and why. Pure, so it is tested for
 * machines without NVRTC or cuBLAS without a GPU.
 *
 * <ul>
 *   <li>Kernels: the precompiled images when they are current and cover the device; otherwise
 *       NVRTC when it loads; otherwise the device cannot be used (the reason names both).
 *   <li>GEMMs: cuBLAS when it loads, otherwise r1kit's own kernels (gemm.cu).
 * </ul>
 */
public record CudaPlan(Kernels kernels, CudaOps.GemmPath gemm, String line) {

    public enum Kernels { PRECOMPILED, NVRTC }

    public static CudaPlan choose(CudaLibraries.Status st, int arch, AotKernels aot) {
        if (!st.available()) throw new IllegalStateException("CUDA is not available: " + st.reason());
        String sm = "sm_" + arch;
        String cover = AotKernels.coverage(arch);
        String nvrtc = st.nvrtc() ? "NVRTC " + st.nvrtcMajor() + "." + st.nvrtcMinor() : "NVRTC unavailable (" + st.nvrtcMissing() + ")";
        Kernels kernels;
        String kernelText;
        if (aot.present() && cover != null) {
            kernels = Kernels.PRECOMPILED;
            kernelText = "precompiled by nvcc " + aot.nvcc() + " (" + cover + " for " + sm + "); fallback: " + nvrtc;
        } else if (st.nvrtc()) {
            kernels = Kernels.NVRTC;
            kernelText = "compiled at run time by " + nvrtc + " because the precompiled kernels are "
                    + (aot.present() ? "not built for " + sm : aot.missingReason());
        } else {
            throw new IllegalStateException("no CUDA kernels for " + sm + ": the precompiled kernels are "
                    + (aot.present() ? "not built for " + sm + " (cubins for sm_80, sm_90; PTX for compute_90 and newer)" : aot.missingReason())
                    + ", and " + nvrtc + " to compile them");
        }
        CudaOps.GemmPath gemm = st.cublas() ? CudaOps.GemmPath.CUBLAS : CudaOps.GemmPath.OWN;
        String gemmText = gemm == CudaOps.GemmPath.CUBLAS ? "cuBLAS (libcublas.so.12 loaded)"
                : "r1kit's own (bf16 on tensor cores via mma.sync, fp32 on the tiled SIMT kernel) because cuBLAS is unavailable ("
                  + st.cublasMissing() + ")";
        return new CudaPlan(kernels, gemm, "r1kit cuda: kernels " + kernelText + "; GEMM " + gemmText);
    }
}

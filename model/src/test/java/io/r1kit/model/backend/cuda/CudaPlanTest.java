package io.r1kit.model.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A GPU host with only an NVIDIA driver, simulated: {@link CudaLibraries#probe} on stand-in
 * bindings whose NVRTC and cuBLAS loads fail exactly as JCuda's do when libnvrtc.so.12 and
 * libcublas.so.12 are missing, then {@link CudaPlan#choose} with the precompiled kernels the build
 * put on the classpath. The backend must come up (driver only), pick the precompiled kernels and
 * r1kit's own GEMM, and say both in its one line.
 */
class CudaPlanTest {

    /** Bindings of a machine with a driver (CUDA 13.0, one device) and the listed libraries missing. */
    static CudaLibraries.Natives machine(boolean nvrtc, boolean cublas) {
        return new CudaLibraries.Natives() {
            @Override public CudaLibraries.DriverFacts driver() { return new CudaLibraries.DriverFacts(0, 1, 13000); }

            @Override public int[] nvrtcVersion() {
                if (!nvrtc) throw missing("JNvrtc", "libnvrtc.so.12");
                return new int[] {12, 6};
            }

            @Override public void cublas() {
                if (!cublas) throw missing("JCublas2", "libcublas.so.12");
            }
        };
    }

    /** The error JCuda's LibUtils throws when its JNI library's CUDA dependency is missing. */
    static UnsatisfiedLinkError missing(String binding, String lib) {
        return new UnsatisfiedLinkError("Error while loading native library \"" + binding + "-12.6.0-linux-x86_64\"\n"
                + "---(start of nested stack traces)---\njava.lang.UnsatisfiedLinkError: /tmp/lib" + binding
                + "-12.6.0-linux-x86_64.so: " + lib + ": cannot open shared object file: No such file or directory\n\tat java.base/x");
    }

    @Test
    void driverOnlyMachineUsesPrecompiledKernelsAndOwnGemm() {
        AotKernels aot = AotKernels.get();
        Assumptions.assumeTrue(aot.present(), "no precompiled kernels in this build: " + aot.missingReason());
        CudaLibraries.Status st = CudaLibraries.probe(machine(false, false));
        assertTrue(st.available(), st.reason());
        assertFalse(st.nvrtc());
        assertFalse(st.cublas());
        assertEquals("libnvrtc.so.12 not found", st.nvrtcMissing());
        assertEquals("libcublas.so.12 not found", st.cublasMissing());
        for (int arch : new int[] {80, 86, 89, 90, 100, 120}) {
            CudaPlan plan = CudaPlan.choose(st, arch, aot);
            assertEquals(CudaPlan.Kernels.PRECOMPILED, plan.kernels(), plan.line());
            assertEquals(CudaOps.GemmPath.OWN, plan.gemm(), plan.line());
            assertFalse(plan.line().contains("\n"), plan.line());
            assertTrue(plan.line().contains("precompiled by nvcc " + aot.nvcc()), plan.line());
            assertTrue(plan.line().contains("GEMM r1kit's own") && plan.line().contains("libcublas.so.12 not found"), plan.line());
            assertTrue(plan.line().contains("NVRTC unavailable (libnvrtc.so.12 not found)"), plan.line());
        }
        assertTrue(CudaPlan.choose(st, 86, aot).line().contains("sm_80 cubin for sm_86"));
        assertTrue(CudaPlan.choose(st, 120, aot).line().contains("compute_90 PTX"));
    }

    @Test
    void fullMachineUsesCublasAndKeepsNvrtcAsFallback() {
        CudaLibraries.Status st = CudaLibraries.probe(machine(true, true));
        assertTrue(st.nvrtc() && st.cublas());
        CudaPlan plan = CudaPlan.choose(st, 90, AotKernels.get());
        assertEquals(CudaOps.GemmPath.CUBLAS, plan.gemm());
        assertEquals(AotKernels.get().present() ? CudaPlan.Kernels.PRECOMPILED : CudaPlan.Kernels.NVRTC, plan.kernels(), plan.line());
    }

    @Test
    void noKernelsAtAllIsRefusedWithBothReasons() {
        CudaLibraries.Status st = CudaLibraries.probe(machine(false, true));
        // an architecture the images do not cover (sm_75) needs NVRTC, which is missing
        var e = assertThrows(IllegalStateException.class, () -> CudaPlan.choose(st, 75, AotKernels.get()));
        assertTrue(e.getMessage().contains("no CUDA kernels for sm_75"), e.getMessage());
        assertTrue(e.getMessage().contains("libnvrtc.so.12 not found"), e.getMessage());
    }

    @Test
    void withoutADriverNothingElseIsTried() {
        List<String> calls = new ArrayList<>();
        CudaLibraries.Status st = CudaLibraries.probe(new CudaLibraries.Natives() {
            @Override public CudaLibraries.DriverFacts driver() { throw missing("JCudaDriver", "libcuda.so.1"); }

            @Override public int[] nvrtcVersion() { calls.add("nvrtc"); return new int[] {12, 6}; }

            @Override public void cublas() { calls.add("cublas"); }
        });
        assertFalse(st.available());
        assertTrue(st.reason().startsWith("libcuda.so.1 not found (no NVIDIA driver installed)"), st.reason());
        assertEquals(List.of(), calls);
        assertThrows(IllegalStateException.class, () -> CudaPlan.choose(st, 90, AotKernels.get()));
    }

    @Test
    void coverageFollowsCubinCompatibilityAndPtxForward() {
        assertEquals("sm_80 cubin", AotKernels.coverage(80));
        assertEquals("sm_80 cubin", AotKernels.coverage(89));
        assertEquals("sm_90 cubin", AotKernels.coverage(90));
        assertTrue(AotKernels.coverage(100).startsWith("compute_90 PTX"));
        assertTrue(AotKernels.coverage(120).startsWith("compute_90 PTX"));
        assertNull(AotKernels.coverage(75));
    }

    @Test
    void precompiledImagesAreCurrentFatbinsForEverySource() {
        AotKernels aot = AotKernels.get();
        if (CudaKernelBuildTest.nvcc() != null) {
            assertTrue(aot.present(), "nvcc is on this machine, so the build must have precompiled the kernels: " + aot.missingReason());
        }
        Assumptions.assumeTrue(aot.present(), "no precompiled kernels in this build: " + aot.missingReason());
        for (String file : KernelSources.FILES) {
            byte[] image = aot.image(file);
            assertNotNull(image, file);
            // fatbin header magic 0xBA55ED50 (little-endian), as cuModuleLoadData recognises it
            assertEquals(0xBA55ED50, ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0), file);
        }
    }
}

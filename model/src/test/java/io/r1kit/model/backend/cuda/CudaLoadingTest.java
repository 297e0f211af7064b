package io.r1kit.model.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pure-Java parts of the CUDA loading and compilation path (no GPU needed). */
class CudaLoadingTest {

    @Test
    void nativeLoadFailuresBecomeOneLineReasons() {
        String jcudaMessage = """
                Error while loading native library "JCublas2-12.6.0-linux-x86_64"
                Operating system name: Linux
                ---(start of nested stack traces)---
                java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object file: No such file or directory
                	at java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
                """;
        String reason = CudaLibraries.reasonFor(new UnsatisfiedLinkError(jcudaMessage));
        assertTrue(reason.startsWith("libcublas.so.12 not found; r1kit's CUDA backend needs"), reason);
        assertFalse(reason.contains("\n"), reason);
        assertFalse(reason.contains("at java.base"), reason);

        String driver = CudaLibraries.reasonFor(new UnsatisfiedLinkError(
                "x\nUnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file: No such file"));
        assertTrue(driver.startsWith("libcuda.so.1 not found (no NVIDIA driver installed)"), driver);

        String other = CudaLibraries.reasonFor(new IllegalStateException("boom\nsecond line"));
        assertTrue(other.startsWith("IllegalStateException: boom;"), other);
        assertFalse(other.contains("second line"), other);
    }

    @Test
    void statusNeverThrowsAndExplainsItself() {
        CudaLibraries.Status st = CudaLibraries.status();
        if (!st.available()) {
            assertFalse(st.reason().isBlank());
            assertFalse(st.reason().contains("\n"), st.reason());
        } else {
            assertTrue(st.deviceCount() > 0);
        }
        assertEquals(st, CudaLibraries.status(), "status is computed once");
    }

    @Test
    void targetIsACubinForAKnownArchitectureElsePtxForTheNewestBelow() {
        int[] supported = {75, 80, 86, 87, 89, 90};
        assertEquals(new NvrtcCompiler.Target(80, false), NvrtcCompiler.chooseTarget(80, supported));
        assertEquals(new NvrtcCompiler.Target(90, false), NvrtcCompiler.chooseTarget(90, supported));
        assertEquals(new NvrtcCompiler.Target(90, true), NvrtcCompiler.chooseTarget(120, supported));
        assertEquals("--gpu-architecture=compute_90", NvrtcCompiler.chooseTarget(100, supported).option());
        assertThrows(IllegalStateException.class, () -> NvrtcCompiler.chooseTarget(70, supported));
    }

    @Test
    void cacheNameDependsOnSourceArchitectureAndNvrtcVersion() {
        var sm80 = new NvrtcCompiler.Target(80, false);
        var sm90 = new NvrtcCompiler.Target(90, false);
        String[] opts = {"--gpu-architecture=sm_80"};
        String a = NvrtcCompiler.cacheName("softmax.cu", "src", "hdr", "12.6", sm80, opts);
        assertTrue(a.startsWith("softmax-") && a.endsWith("-sm_80.cubin"), a);
        assertEquals(a, NvrtcCompiler.cacheName("softmax.cu", "src", "hdr", "12.6", sm80, opts));
        assertNotEquals(a, NvrtcCompiler.cacheName("softmax.cu", "src2", "hdr", "12.6", sm80, opts));
        assertNotEquals(a, NvrtcCompiler.cacheName("softmax.cu", "src", "hdr2", "12.6", sm80, opts));
        assertNotEquals(a, NvrtcCompiler.cacheName("softmax.cu", "src", "hdr", "12.8", sm80, opts));
        assertNotEquals(a, NvrtcCompiler.cacheName("softmax.cu", "src", "hdr", "12.6", sm90, opts));
    }
}

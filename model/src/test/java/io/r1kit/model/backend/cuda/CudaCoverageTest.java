package io.r1kit.model.backend.cuda;

import io.r1kit.model.backend.Backend;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Static checks that need no GPU: every {@link Backend} method has its own implementation in
 * {@link CudaBackend}; every kernel it is documented to launch and every {@link Kernel} constant
 * (launches can only name those) is an {@code extern "C" __global__} entry point of its source
 * file; and no entry point in the sources is dead.
 */
class CudaCoverageTest {

    static Map<String, List<String>> entryPointsByFile() {
        Map<String, List<String>> m = new HashMap<>();
        for (String f : KernelSources.FILES) m.put(f, KernelSources.entryPoints(KernelSources.read(f)));
        return m;
    }

    @Test
    void everyBackendMethodIsImplementedByCudaBackend() throws Exception {
        for (Method m : Backend.class.getMethods()) {
            if (m.isDefault() || Modifier.isStatic(m.getModifiers())) continue;
            Method impl = CudaBackend.class.getDeclaredMethod(m.getName(), m.getParameterTypes());
            assertFalse(Modifier.isAbstract(impl.getModifiers()), m.getName());
            assertEquals(m.getReturnType(), impl.getReturnType(), m.getName());
            if (!m.getName().equals("name")) {
                assertTrue(CudaBackend.KERNELS_BY_METHOD.containsKey(m.getName()),
                        "CudaBackend.KERNELS_BY_METHOD has no entry for Backend." + m.getName());
            }
        }
    }

    @Test
    void everyLaunchedKernelExistsInItsSource() {
        Map<String, List<String>> byFile = entryPointsByFile();
        Set<String> all = new HashSet<>();
        byFile.values().forEach(all::addAll);
        for (Kernel k : Kernel.values()) {
            assertTrue(byFile.containsKey(k.file), k + ": unknown source file " + k.file);
            assertTrue(byFile.get(k.file).contains(k.entry), k + ": " + k.file + " defines no extern \"C\" __global__ " + k.entry
                    + " (it defines " + byFile.get(k.file) + ")");
        }
        Set<String> constants = new HashSet<>();
        for (Kernel k : Kernel.values()) constants.add(k.entry);
        for (var e : CudaBackend.KERNELS_BY_METHOD.entrySet()) {
            for (String kernel : e.getValue()) {
                if (kernel.equals("cublas")) continue;
                assertTrue(all.contains(kernel), "Backend." + e.getKey() + " launches " + kernel + ", which no .cu source defines");
                assertTrue(constants.contains(kernel), "Backend." + e.getKey() + " launches " + kernel + " without a Kernel constant");
            }
        }
        for (String entry : all) assertTrue(constants.contains(entry), "kernel " + entry + " is defined but never launched (no Kernel constant)");
    }

    @Test
    void entryPointParserSeesLaunchBoundsAndPlainKernels() {
        String src = """
                __device__ float helper(float x) { return x; }
                extern "C" __global__ void plain(float* a, int n) {}
                extern "C" __global__ void __launch_bounds__(128) bounded(float* a) {}
                extern "C" __global__ __launch_bounds__(256, 2) void bounded2(float* a) {}
                __global__ void notExported(float* a) {}
                """;
        assertEquals(List.of("plain", "bounded", "bounded2"), KernelSources.entryPoints(src));
    }
}

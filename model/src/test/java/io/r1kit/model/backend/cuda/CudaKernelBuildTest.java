package io.r1kit.model.backend.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernel build check: every {@code .cu} source compiles with nvcc for sm_80 (A100) and sm_90
 * (H100) — one nvcc call per file producing a fatbin with both cubins, front-end warnings and
 * ptxas warnings as errors — so a kernel that does not compile fails the suite even on machines
 * without a GPU. Runs when nvcc is on PATH (or in /usr/local/cuda/bin); skipped visibly otherwise.
 * Files are compiled two at a time (the machine has 2 cores): ~10 CPU-seconds in all, ~5-25 s of
 * wall time depending on load. A pass is remembered (~/.cache/r1kit/nvcc-check) by the hash of the
 * sources, the nvcc version and the flags, so an unchanged tree is not compiled again;
 * {@code -Dr1kit.nvcc.recheck=true} forces the compile.
 *
 * <p>Also checks what NVRTC needs at run time: sources include nothing but the shared header
 * (NVRTC is given only that header, no system include path).
 */
class CudaKernelBuildTest {

    static Path nvcc() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir, "nvcc");
                if (Files.isExecutable(p)) return p;
            }
        }
        Path fallback = Path.of("/usr/local/cuda/bin/nvcc");
        return Files.isExecutable(fallback) ? fallback : null;
    }

    @Test
    void sourcesIncludeOnlyTheSharedHeader() {
        Pattern include = Pattern.compile("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]", Pattern.MULTILINE);
        for (String file : KernelSources.FILES) {
            Matcher m = include.matcher(KernelSources.read(file));
            while (m.find()) {
                assertEquals(KernelSources.HEADER, m.group(1), file + " includes " + m.group(1)
                        + ": NVRTC compiles with the shared header only (no system headers)");
            }
        }
        assertTrue(include.matcher(KernelSources.read(KernelSources.HEADER)).results().findAny().isEmpty(),
                KernelSources.HEADER + " must not include anything");
    }

    @Test
    void everyKernelSourceCompilesForSm80AndSm90() throws Exception {
        Path nvcc = nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc not on PATH: CUDA kernel build check skipped");
        // A passing check is remembered by the hash of (all sources, nvcc version, flags): the same
        // sources with the same compiler cannot start failing, and the compile costs ~10 CPU-seconds.
        // Any change to a kernel, the header, the flags or nvcc compiles everything again.
        StringBuilder all = new StringBuilder(run(List.of(nvcc.toString(), "--version"))).append(String.join(" ", FLAGS));
        all.append(KernelSources.read(KernelSources.HEADER));
        for (String f : KernelSources.FILES) all.append(f).append(KernelSources.read(f));
        Path stamp = Path.of(System.getProperty("user.home"), ".cache", "r1kit", "nvcc-check", KernelSources.sha256(all.toString()) + ".ok");
        if (Files.exists(stamp) && !Boolean.getBoolean("r1kit.nvcc.recheck")) {
            System.out.println("nvcc build check: these exact sources passed with this nvcc before (" + stamp
                    + "); -Dr1kit.nvcc.recheck=true compiles them again");
            return;
        }
        Path dir = Files.createTempDirectory("r1kit-cu-");
        Files.writeString(dir.resolve(KernelSources.HEADER), KernelSources.read(KernelSources.HEADER));
        for (String f : KernelSources.FILES) Files.writeString(dir.resolve(f), KernelSources.read(f));
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (String f : KernelSources.FILES) results.add(pool.submit(() -> compile(nvcc, dir, f)));
            List<String> failures = new ArrayList<>();
            for (Future<String> r : results) {
                String err = r.get(10, TimeUnit.MINUTES);
                if (err != null) failures.add(err);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("nvcc build check: %d files for sm_80 + sm_90 in %.1f s%n", KernelSources.FILES.size(), seconds);
            if (!failures.isEmpty()) fail("CUDA kernels failed to compile:\n" + String.join("\n", failures));
            try {
                Files.createDirectories(stamp.getParent());
                Files.writeString(stamp, "passed " + java.time.Instant.now() + "\n");
            } catch (IOException e) {
                // no cache: the next run compiles again
            }
        } finally {
            pool.shutdownNow();
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** One fatbin with both cubins; nvcc front-end warnings and ptxas warnings are errors. */
    static final List<String> FLAGS = List.of("-fatbin", "-gencode", "arch=compute_80,code=sm_80",
            "-gencode", "arch=compute_90,code=sm_90", "-std=c++17", "-Werror", "all-warnings", "-Xptxas", "-Werror");

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(1, TimeUnit.MINUTES);
        return out;
    }

    /** Compiles one file; returns null on success, else the file name and nvcc's output. */
    private static String compile(Path nvcc, Path dir, String file) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(nvcc.toString()));
        cmd.addAll(FLAGS);
        cmd.addAll(List.of("-I", dir.toString(), "-o", dir.resolve(file + ".fatbin").toString(), dir.resolve(file).toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return file + ": nvcc timed out";
        }
        if (p.exitValue() != 0) return file + " (exit " + p.exitValue() + "):\n" + out;
        if (!Files.isRegularFile(dir.resolve(file + ".fatbin"))) return file + ": nvcc wrote no fatbin";
        return null;
    }
}

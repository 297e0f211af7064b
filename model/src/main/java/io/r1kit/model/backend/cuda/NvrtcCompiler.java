package io.r1kit.model.backend.cuda;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.nvrtc.nvrtcResult;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * Compiles the kernel sources at run time with NVRTC for the device's compute capability and
 * caches the binaries on disk, keyed by the hash of (source, header, options, NVRTC version) and
 * the target architecture, so a second run (or a second process) loads them in milliseconds.
 *
 * <p>Target: a cubin for {@code sm_XY} when this NVRTC knows the device's architecture; for a
 * device newer than NVRTC (e.g. NVRTC 12.6 on sm_100/sm_120) PTX for the newest architecture NVRTC
 * supports, which the driver JIT-compiles forward (cubins are not forward compatible across major
 * architectures, PTX is).
 *
 * <p>Cache folder: {@code -Dr1kit.cuda.cacheDir}, else {@code $R1KIT_CUDA_CACHE_DIR}, else
 * {@code ~/.cache/r1kit/cuda}.
 */
public final class NvrtcCompiler {

    /** What to compile for: a cubin for sm_{arch} or PTX for compute_{arch}. */
    public record Target(int arch, boolean ptx) {
        public String option() { return "--gpu-architecture=" + (ptx ? "compute_" : "sm_") + arch; }
        public String extension() { return ptx ? "ptx" : "cubin"; }
    }

    /** A compiled module image: cubin bytes, or PTX text (null-terminated bytes) for the driver to JIT. */
    public record Image(byte[] bytes, Target target, boolean fromCache) {}

    private final Path cacheDir;
    private final String nvrtcVersion;
    private final int[] supportedArchs;

    public NvrtcCompiler(Path cacheDir) {
        this.cacheDir = cacheDir;
        JNvrtc.setExceptionsEnabled(false);
        int[] ma = new int[1], mi = new int[1];
        JNvrtc.nvrtcVersion(ma, mi);
        this.nvrtcVersion = ma[0] + "." + mi[0];
        int[] n = new int[1];
        JNvrtc.nvrtcGetNumSupportedArchs(n);
        int[] archs = new int[n[0]];
        if (n[0] > 0) JNvrtc.nvrtcGetSupportedArchs(archs);
        this.supportedArchs = archs;
    }

    public static Path defaultCacheDir() {
        String dir = System.getProperty("r1kit.cuda.cacheDir");
        if (dir == null || dir.isBlank()) dir = System.getenv("R1KIT_CUDA_CACHE_DIR");
        if (dir == null || dir.isBlank()) return Path.of(System.getProperty("user.home"), ".cache", "r1kit", "cuda");
        return Path.of(dir);
    }

    public String nvrtcVersion() { return nvrtcVersion; }

    /**
     * The target for a device of compute capability {@code deviceArch} (major*10+minor) given the
     * architectures NVRTC supports: a cubin when supported, else PTX for the newest supported
     * architecture below the device.
     */
    public static Target chooseTarget(int deviceArch, int[] supported) {
        int best = -1;
        for (int a : supported) {
            if (a == deviceArch) return new Target(deviceArch, false);
            if (a < deviceArch) best = Math.max(best, a);
        }
        if (best < 0) {
            throw new IllegalStateException("NVRTC supports none of the architectures up to sm_" + deviceArch
                    + " (supported: " + Arrays.toString(supported) + ")");
        }
        return new Target(best, true);
    }

    /** The cache file name for a source: family-hash-target.ext. */
    public static String cacheName(String file, String source, String header, String nvrtcVersion, Target target, String[] options) {
        String hash = KernelSources.sha256(source, header, nvrtcVersion, String.join(" ", options), target.option()).substring(0, 24);
        return file.replace(".cu", "") + "-" + hash + "-" + (target.ptx() ? "compute_" : "sm_") + target.arch() + "." + target.extension();
    }

    /** Compiles (or loads from the cache) one kernel source for a device of compute capability deviceArch. */
    public Image compile(String file, int deviceArch) {
        String source = KernelSources.read(file);
        String header = KernelSources.read(KernelSources.HEADER);
        Target target = chooseTarget(deviceArch, supportedArchs);
        String[] options = {target.option(), "--std=c++17"};
        Path cached = cacheDir.resolve(cacheName(file, source, header, nvrtcVersion, target, options));
        if (Files.isRegularFile(cached)) {
            try {
                return new Image(Files.readAllBytes(cached), target, true);
            } catch (IOException e) {
                // unreadable cache entry: compile again and overwrite it
            }
        }
        byte[] image = nvrtc(file, source, header, options, target);
        try {
            Files.createDirectories(cacheDir);
            Path tmp = Files.createTempFile(cacheDir, "tmp-", "." + target.extension());
            Files.write(tmp, image);
            Files.move(tmp, cached, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // the cache is an optimisation: a read-only home still runs, compiling each time
        }
        return new Image(image, target, false);
    }

    private static byte[] nvrtc(String file, String source, String header, String[] options, Target target) {
        nvrtcProgram prog = new nvrtcProgram();
        check(JNvrtc.nvrtcCreateProgram(prog, source, file, 1, new String[] {header}, new String[] {KernelSources.HEADER}),
                "nvrtcCreateProgram", file);
        try {
            int rc = JNvrtc.nvrtcCompileProgram(prog, options.length, options);
            if (rc != nvrtcResult.NVRTC_SUCCESS) {
                String[] log = new String[1];
                JNvrtc.nvrtcGetProgramLog(prog, log);
                throw new IllegalStateException("NVRTC could not compile " + file + " for " + target.option() + ": "
                        + nvrtcResult.stringFor(rc) + "\n" + log[0]);
            }
            long[] size = new long[1];
            if (target.ptx()) {
                String[] ptx = new String[1];
                check(JNvrtc.nvrtcGetPTX(prog, ptx), "nvrtcGetPTX", file);
                byte[] text = ptx[0].getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                return Arrays.copyOf(text, text.length + 1);      // the driver wants a NUL-terminated image
            }
            check(JNvrtc.nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize", file);
            byte[] cubin = new byte[Math.toIntExact(size[0])];
            check(JNvrtc.nvrtcGetCUBIN(prog, cubin), "nvrtcGetCUBIN", file);
            return cubin;
        } finally {
            JNvrtc.nvrtcDestroyProgram(prog);
        }
    }

    private static void check(int rc, String call, String file) {
        if (rc != nvrtcResult.NVRTC_SUCCESS) {
            throw new IllegalStateException(call + " failed for " + file + ": " + nvrtcResult.stringFor(rc));
        }
    }

}

package io.r1kit.model.backend.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads the JCuda natives and the CUDA libraries under them, and says in ONE line why not when it
 * cannot. Never lets a native-loading failure escape: {@link UnsatisfiedLinkError},
 * {@code CudaException} and anything else thrown while loading become the reason string.
 *
 * <p>JCuda 12.6 links against the CUDA 12 user-space libraries: the driver's {@code libcuda.so.1}
 * (any driver that supports CUDA 12.x, i.e. R525 or newer; 12.6 features want R560), cuBLAS 12
 * ({@code libcublas.so.12} + {@code libcublasLt.so.12}) and NVRTC 12 ({@code libnvrtc.so.12} +
 * its builtins); the CUDA runtime itself is linked statically into JCuda's JNI library. A folder
 * holding them can be given with {@code -Dr1kit.cuda.libDir=DIR} or {@code R1KIT_CUDA_LIB_DIR=DIR}:
 * the libraries found there are loaded by absolute path before JCuda's own JNI libraries, so
 * the dynamic linker resolves JCuda's dependencies to them without LD_LIBRARY_PATH.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    public static final String LIB_DIR_PROPERTY = "r1kit.cuda.libDir";
    public static final String LIB_DIR_ENV = "R1KIT_CUDA_LIB_DIR";
    /** Needed libraries in load order (dependencies first). The driver is never shipped in a lib dir but may be. */
    static final List<String> PRELOAD = List.of("libcuda.so.1", "libcublasLt.so.12", "libcublas.so.12", "libnvrtc-builtins.so.12",
            "libnvrtc.so.12");
    static final String NEEDS = "JCuda 12.6 needs an NVIDIA driver for CUDA 12 (libcuda.so.1) and the CUDA 12 cuBLAS and NVRTC libraries"
            + " (libcublas.so.12, libnvrtc.so.12); point -D" + LIB_DIR_PROPERTY + " or " + LIB_DIR_ENV + " at their folder";

    /** The outcome: available, or the reason it is not (one line). Device facts when available. */
    public record Status(boolean available, String reason, int deviceCount, int driverVersion, int nvrtcMajor, int nvrtcMinor) {
        static Status unavailable(String reason) { return new Status(false, reason, 0, 0, 0, 0); }
    }

    private static Status status;

    /** Loads (once) and reports. Safe to call on any machine. */
    public static synchronized Status status() {
        if (status == null) status = load();
        return status;
    }

    /** The configured library folder, or null. */
    public static String libDir() {
        String dir = System.getProperty(LIB_DIR_PROPERTY);
        if (dir == null || dir.isBlank()) dir = System.getenv(LIB_DIR_ENV);
        return dir == null || dir.isBlank() ? null : dir;
    }

    private static Status load() {
        // JCuda's LibUtils logs its own attempts at FINE; keep them (and any stack-trace text) quiet.
        Logger.getLogger("jcuda").setLevel(Level.OFF);
        Logger.getLogger("jcuda.LibUtils").setLevel(Level.OFF);
        String dir = libDir();
        if (dir != null) {
            Path d = Path.of(dir);
            if (!Files.isDirectory(d)) {
                return Status.unavailable("CUDA library folder " + dir + " (from " + LIB_DIR_PROPERTY + "/" + LIB_DIR_ENV + ") does not exist");
            }
            List<String> failed = new ArrayList<>();
            for (String lib : PRELOAD) {
                Path p = find(d, lib);
                if (p == null) continue;                  // may be found by the system linker instead
                try {
                    System.load(p.toAbsolutePath().toString());
                } catch (Throwable t) {
                    failed.add(lib + " (" + firstLine(t.getMessage()) + ")");
                }
            }
            if (!failed.isEmpty()) return Status.unavailable("could not load " + String.join(", ", failed) + " from " + dir);
        }
        try {
            jcuda.driver.JCudaDriver.setExceptionsEnabled(false);
            int rc = jcuda.driver.JCudaDriver.cuInit(0);
            if (rc != jcuda.driver.CUresult.CUDA_SUCCESS) {
                String name = jcuda.driver.CUresult.stringFor(rc);
                String why = rc == jcuda.driver.CUresult.CUDA_ERROR_NO_DEVICE ? "no CUDA device visible"
                        : rc == jcuda.driver.CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH ? "the kernel driver and libcuda.so versions differ"
                        : "the driver failed to initialise";
                return Status.unavailable("cuInit failed: " + name + " (" + why + ")");
            }
            int[] count = new int[1];
            jcuda.driver.JCudaDriver.cuDeviceGetCount(count);
            if (count[0] == 0) return Status.unavailable("the NVIDIA driver loaded but reports no CUDA device");
            int[] driver = new int[1];
            jcuda.driver.JCudaDriver.cuDriverGetVersion(driver);
            if (driver[0] < 12000) {
                return Status.unavailable("the NVIDIA driver supports CUDA " + driver[0] / 1000 + "." + driver[0] % 1000 / 10
                        + " but JCuda 12.6 needs CUDA 12 (driver R525 or newer)");
            }
            jcuda.nvrtc.JNvrtc.setExceptionsEnabled(false);
            int[] major = new int[1], minor = new int[1];
            jcuda.nvrtc.JNvrtc.nvrtcVersion(major, minor);
            jcuda.jcublas.JCublas2.setExceptionsEnabled(false);
            jcuda.jcublas.JCublas2.initialize();
            return new Status(true, "ok", count[0], driver[0], major[0], minor[0]);
        } catch (Throwable t) {
            return Status.unavailable(reasonFor(t));
        }
    }

    /** dir/name, or the first dir/name.* (e.g. libnvrtc-builtins.so.12.6), or null. */
    private static Path find(Path dir, String name) {
        Path exact = dir.resolve(name);
        if (Files.exists(exact)) return exact;
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(name + ".")).sorted().findFirst().orElse(null);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static final Pattern MISSING = Pattern.compile("(lib[\\w.+-]+\\.so[\\w.]*): cannot open shared object file");

    /** Turns a native-loading failure (whose message may hold whole nested stack traces) into one line. */
    static String reasonFor(Throwable t) {
        String msg = String.valueOf(t.getMessage());
        Matcher m = MISSING.matcher(msg);
        if (m.find()) {
            String lib = m.group(1);
            String what = lib.startsWith("libcuda.") ? " (no NVIDIA driver installed)" : "";
            return lib + " not found" + what + "; " + NEEDS;
        }
        if (msg.contains("GLIBC") || msg.contains("version `")) {
            Matcher v = Pattern.compile("version `[^']+' not found[^\\n]*").matcher(msg);
            return "CUDA library version mismatch: " + (v.find() ? v.group() : firstLine(msg)) + "; " + NEEDS;
        }
        return t.getClass().getSimpleName() + ": " + firstLine(msg) + "; " + NEEDS;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}

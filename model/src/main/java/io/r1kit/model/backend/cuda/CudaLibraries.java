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
 * <p>Only the driver is required. JCuda 12.6's driver binding needs nothing but the driver's
 * {@code libcuda.so.1} (R525 or newer for CUDA 12; R580 or newer to load the kernels r1kit's build
 * precompiled with CUDA 13, see {@link AotKernels}); its runtime binding links the CUDA runtime
 * statically. Two bindings need a CUDA 12 user-space library and are optional:
 * <ul>
 *   <li>NVRTC ({@code libnvrtc.so.12} + builtins): compiles kernels at run time; without it the
 *       precompiled kernels are used (and a device they do not cover is refused with the reason).
 *   <li>cuBLAS ({@code libcublas.so.12} + {@code libcublasLt.so.12}): GEMMs; without it r1kit's own
 *       GEMM kernels (gemm.cu) run.
 * </ul>
 * A folder holding them can be given with {@code -Dr1kit.cuda.libDir=DIR} or
 * {@code R1KIT_CUDA_LIB_DIR=DIR}: the libraries found there are loaded by absolute path before
 * JCuda's own JNI libraries, so the dynamic linker resolves JCuda's dependencies to them without
 * LD_LIBRARY_PATH.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    public static final String LIB_DIR_PROPERTY = "r1kit.cuda.libDir";
    public static final String LIB_DIR_ENV = "R1KIT_CUDA_LIB_DIR";
    /** Needed libraries in load order (dependencies first). The driver is never shipped in a lib dir but may be. */
    static final List<String> PRELOAD = List.of("libcuda.so.1", "libcublasLt.so.12", "libcublas.so.12", "libnvrtc-builtins.so.12",
            "libnvrtc.so.12");
    static final String NEEDS = "r1kit's CUDA backend needs an NVIDIA driver (libcuda.so.1, R525+; R580+ for the precompiled kernels);"
            + " cuBLAS 12 and NVRTC 12 (libcublas.so.12, libnvrtc.so.12) are optional; -D" + LIB_DIR_PROPERTY + " or " + LIB_DIR_ENV
            + " may point at their folder";

    /**
     * The outcome: available (the driver initialised and sees a device), or the reason it is not
     * (one line). Device facts when available; {@code nvrtcMissing} / {@code cublasMissing} are null
     * when that library loaded, else the one-line reason it did not.
     */
    public record Status(boolean available, String reason, int deviceCount, int driverVersion, int nvrtcMajor, int nvrtcMinor,
                         String nvrtcMissing, String cublasMissing) {
        static Status unavailable(String reason) { return new Status(false, reason, 0, 0, 0, 0, null, null); }

        public boolean nvrtc() { return available && nvrtcMissing == null; }

        public boolean cublas() { return available && cublasMissing == null; }
    }

    /** What the driver reported: cuInit's result, and when it succeeded the device count and driver version. */
    record DriverFacts(int initResult, int deviceCount, int driverVersion) {}

    /**
     * The JNI bindings, one call each; each may throw whatever loading its native library throws.
     * {@link #JCUDA} is the real one; tests stand in for machines that lack some libraries.
     */
    interface Natives {
        DriverFacts driver();

        /** Loads NVRTC; returns {major, minor}. */
        int[] nvrtcVersion();

        /** Loads cuBLAS. */
        void cublas();
    }

    static final Natives JCUDA = new Natives() {
        @Override public DriverFacts driver() {
            jcuda.driver.JCudaDriver.setExceptionsEnabled(false);
            int rc = jcuda.driver.JCudaDriver.cuInit(0);
            if (rc != jcuda.driver.CUresult.CUDA_SUCCESS) return new DriverFacts(rc, 0, 0);
            int[] count = new int[1], driver = new int[1];
            jcuda.driver.JCudaDriver.cuDeviceGetCount(count);
            jcuda.driver.JCudaDriver.cuDriverGetVersion(driver);
            return new DriverFacts(rc, count[0], driver[0]);
        }

        @Override public int[] nvrtcVersion() {
            jcuda.nvrtc.JNvrtc.setExceptionsEnabled(false);
            int[] major = new int[1], minor = new int[1];
            jcuda.nvrtc.JNvrtc.nvrtcVersion(major, minor);
            return new int[] {major[0], minor[0]};
        }

        @Override public void cublas() {
            jcuda.jcublas.JCublas2.setExceptionsEnabled(false);
            jcuda.jcublas.JCublas2.initialize();
        }
    };

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
        return probe(JCUDA);
    }

    /** The status given the bindings: the driver decides availability, NVRTC and cuBLAS only what runs. */
    static Status probe(Natives natives) {
        DriverFacts d;
        try {
            d = natives.driver();
        } catch (Throwable t) {
            return Status.unavailable(reasonFor(t));
        }
        if (d.initResult() != 0) {
            String name = jcuda.driver.CUresult.stringFor(d.initResult());
            String why = d.initResult() == jcuda.driver.CUresult.CUDA_ERROR_NO_DEVICE ? "no CUDA device visible"
                    : d.initResult() == jcuda.driver.CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH ? "the kernel driver and libcuda.so versions differ"
                    : "the driver failed to initialise";
            return Status.unavailable("cuInit failed: " + name + " (" + why + ")");
        }
        if (d.deviceCount() == 0) return Status.unavailable("the NVIDIA driver loaded but reports no CUDA device");
        if (d.driverVersion() < 12000) {
            return Status.unavailable("the NVIDIA driver supports CUDA " + d.driverVersion() / 1000 + "." + d.driverVersion() % 1000 / 10
                    + " but r1kit needs CUDA 12 or newer (driver R525 or newer)");
        }
        int[] nvrtc = {0, 0};
        String nvrtcMissing = null, cublasMissing = null;
        try {
            nvrtc = natives.nvrtcVersion();
        } catch (Throwable t) {
            nvrtcMissing = optionalReason(t);
        }
        try {
            natives.cublas();
        } catch (Throwable t) {
            cublasMissing = optionalReason(t);
        }
        return new Status(true, "ok", d.deviceCount(), d.driverVersion(), nvrtc[0], nvrtc[1], nvrtcMissing, cublasMissing);
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

    /** The reason an optional library did not load, without the (driver-centred) advice of {@link #reasonFor}. */
    static String optionalReason(Throwable t) {
        String r = reasonFor(t);
        int cut = r.indexOf("; " + NEEDS);
        return cut < 0 ? r : r.substring(0, cut);
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }
}

package io.r1kit.model.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The kernels compiled ahead of time by the build (model/src/build/compile-kernels.sh, with the
 * build machine's nvcc): one fatbin per .cu file holding cubins for sm_80 and sm_90 and PTX for
 * compute_90, under {@code io/r1kit/model/backend/cuda/aot/} with a {@code manifest.properties}
 * naming the nvcc version and each source's SHA-256. The driver loads a fatbin with
 * {@code cuModuleLoadData} and picks the cubin for the device (sm_80's also runs on sm_86/87/89)
 * or JIT-compiles the PTX for a newer architecture (sm_100, sm_120), so no NVRTC is needed at run
 * time. An image whose source hash differs from the source on the classpath is never used.
 */
public final class AotKernels {
    static final String DIR = KernelSources.DIR + "aot/";
    static final String MANIFEST = "manifest.properties";

    private final Map<String, byte[]> images;
    private final String nvcc;
    private final String missing;

    private AotKernels(Map<String, byte[]> images, String nvcc, String missing) {
        this.images = images;
        this.nvcc = nvcc;
        this.missing = missing;
    }

    private static AotKernels loaded;

    /** The precompiled kernels on the classpath (read once). */
    public static synchronized AotKernels get() {
        if (loaded == null) loaded = read();
        return loaded;
    }

    /** The SHA-256 that the manifest records for a source file: of the file and the shared header. */
    public static String sourceHash(String file) {
        return KernelSources.sha256(KernelSources.read(file), KernelSources.read(KernelSources.HEADER));
    }

    static AotKernels read() {
        Properties manifest = new Properties();
        try (InputStream in = AotKernels.class.getResourceAsStream(DIR + MANIFEST)) {
            if (in == null) {
                return new AotKernels(Map.of(), null, "none in this build (nvcc was not found when r1kit was built)");
            }
            manifest.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + DIR + MANIFEST, e);
        }
        Map<String, byte[]> images = new HashMap<>();
        for (String file : KernelSources.FILES) {
            String want = sourceHash(file);
            if (!want.equals(manifest.getProperty(file + ".sha256"))) {
                return new AotKernels(Map.of(), manifest.getProperty("nvcc"), "stale: " + file + " changed after the kernels were compiled");
            }
            String name = DIR + file.replace(".cu", ".fatbin");
            try (InputStream in = AotKernels.class.getResourceAsStream(name)) {
                if (in == null) return new AotKernels(Map.of(), manifest.getProperty("nvcc"), "incomplete: " + name + " is missing");
                images.put(file, in.readAllBytes());
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + name, e);
            }
        }
        return new AotKernels(images, manifest.getProperty("nvcc", "?"), null);
    }

    /** True when every source file has a current image. */
    public boolean present() { return missing == null; }

    /** Why there are no usable images (null when {@link #present()}). */
    public String missingReason() { return missing; }

    /** The nvcc version that compiled them (null when unknown). */
    public String nvcc() { return nvcc; }

    /** The fatbin of one source file (null when not {@link #present()}). */
    public byte[] image(String file) { return images.get(file); }

    /** The architectures the fatbins hold code for: cubins, then the PTX the driver can JIT forward. */
    public static final List<Integer> CUBINS = List.of(80, 90);
    public static final int PTX = 90;

    /**
     * What the driver runs on a device of compute capability {@code arch} (major*10+minor), or null
     * when the images hold nothing for it: a cubin of the same major version and no newer minor,
     * else the PTX when the device is at least its architecture.
     */
    public static String coverage(int arch) {
        String best = null;
        for (int c : CUBINS) if (c / 10 == arch / 10 && c <= arch) best = "sm_" + c + " cubin";
        if (best != null) return best;
        return arch >= PTX ? "compute_" + PTX + " PTX, JIT-compiled by the driver" : null;
    }
}

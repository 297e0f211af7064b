package io.r1kit.model.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA C++ kernel sources shipped as resources under {@code io/r1kit/model/backend/cuda/}:
 * one {@code .cu} file per kernel family plus the shared header {@code r1kit_common.cuh}. They are
 * compiled at run time by NVRTC ({@link NvrtcCompiler}) and checked with nvcc by the test suite.
 */
public final class KernelSources {
    private KernelSources() {}

    static final String DIR = "/io/r1kit/model/backend/cuda/";
    /** The shared header, passed to NVRTC as an in-memory header so no system include path is needed. */
    public static final String HEADER = "r1kit_common.cuh";
    /** Every kernel source file (each compiled to its own module). */
    public static final List<String> FILES = List.of("elementwise.cu", "embedding.cu", "rmsnorm.cu", "rope_swiglu.cu",
            "softmax.cu", "attention.cu", "adamw.cu", "sampling.cu", "kvcache.cu", "loss.cu", "gemm.cu");

    private static final Pattern ENTRY = Pattern.compile("extern\\s+\"C\"\\s+__global__\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s+)?void\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s+)?(\\w+)\\s*\\(");

    /** The text of a resource in this folder. */
    public static String read(String file) {
        try (InputStream in = KernelSources.class.getResourceAsStream(DIR + file)) {
            if (in == null) throw new IllegalStateException("CUDA kernel source " + DIR + file + " is missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading CUDA kernel source " + DIR + file, e);
        }
    }

    /** Names of the {@code extern "C" __global__} entry points defined in {@code source}, in order. */
    public static List<String> entryPoints(String source) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = ENTRY.matcher(source);
        while (m.find()) names.add(m.group(1));
        return new ArrayList<>(names);
    }

    /** Hex SHA-256 of the given texts (joined with a separator that cannot occur in them). */
    public static String sha256(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

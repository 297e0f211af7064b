package io.r1kit.pipeline.cluster;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A checkpoint every executor reads at the same path (a shared file system, or the one machine of a
 * {@code local-cluster}): nothing is copied.
 */
public record SharedCheckpoint(String path, long bytes) implements ModelShipment {

    @Override
    public Path localDir() {
        Path p = Path.of(path);
        if (!Files.isRegularFile(p.resolve("config.json"))) {
            throw new IllegalStateException("the checkpoint " + p + " is not readable on this executor (no config.json): models above "
                    + "cluster.broadcast_max_bytes are read from their path, which must be on storage every executor mounts");
        }
        return p;
    }

    @Override
    public String how() {
        return "path";
    }

    /** Total bytes of the regular files directly in {@code dir} (a checkpoint directory). */
    public static long sizeOf(Path dir) throws java.io.IOException {
        long n = 0;
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) if (Files.isRegularFile(f)) n += Files.size(f);
        }
        return n;
    }
}

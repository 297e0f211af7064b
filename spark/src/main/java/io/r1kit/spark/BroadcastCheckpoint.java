package io.r1kit.spark;

import io.r1kit.pipeline.cluster.ModelShipment;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A checkpoint whose files travel as a Spark broadcast (fetched once per executor JVM, BitTorrent-like
 * between executors). On first use in a JVM the files are written to a local directory, which later
 * tasks of that JVM reuse.
 *
 * @param files the checkpoint's files by name
 * @param name  the checkpoint's directory name on the driver (for the local directory's name)
 * @param bytes their total size
 */
record BroadcastCheckpoint(Broadcast<LinkedHashMap<String, byte[]>> files, String name, long bytes) implements ModelShipment {

    private static final Map<Long, Path> LOCAL = new ConcurrentHashMap<>();

    /** The files of a flat checkpoint directory, by name. */
    static LinkedHashMap<String, byte[]> read(Path dir) throws IOException {
        LinkedHashMap<String, byte[]> out = new LinkedHashMap<>();
        try (var fs = Files.list(dir)) {
            for (Path f : fs.sorted().toList()) {
                if (Files.isDirectory(f)) {
                    throw new IOException("cannot broadcast " + dir + ": it has a sub-directory " + f.getFileName()
                            + " (a checkpoint directory is flat); set cluster.broadcast_max_bytes: 0 to have executors read it by path");
                }
                out.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return out;
    }

    @Override
    public Path localDir() throws IOException {
        Path p = LOCAL.get(files.id());
        if (p != null) return p;
        synchronized (LOCAL) {
            p = LOCAL.get(files.id());
            if (p != null) return p;
            Path root = Path.of(System.getProperty("java.io.tmpdir"), "r1kit-broadcast-" + ProcessHandle.current().pid());
            Path dir = root.resolve(files.id() + "-" + name);
            Path tmp = root.resolve(files.id() + "-" + name + ".tmp");
            Files.createDirectories(tmp);
            for (Map.Entry<String, byte[]> f : files.value().entrySet()) Files.write(tmp.resolve(f.getKey()), f.getValue());
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            // deleted at exit in the reverse order of registration: files, then their folders
            root.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            for (String f : files.value().keySet()) dir.resolve(f).toFile().deleteOnExit();
            LOCAL.put(files.id(), dir);
            return dir;
        }
    }

    @Override
    public String how() {
        return "broadcast";
    }

    @Override
    public void releaseLocal() throws IOException {
        Path dir;
        synchronized (LOCAL) {
            dir = LOCAL.remove(files.id());
        }
        if (dir == null) return;
        try (var fs = Files.list(dir)) {
            for (Path f : fs.toList()) Files.deleteIfExists(f);
        }
        Files.deleteIfExists(dir);
    }

    /** Removes the broadcast's blocks from the driver and the executors (blocking: the next step's weights may be as large). */
    @Override
    public void release() {
        files.destroy(true);
    }
}

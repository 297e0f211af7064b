package io.r1kit.grpo.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.NamedTensor;
import io.r1kit.model.hf.SafetensorsReader;
import io.r1kit.model.hf.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Checkpoints of a run: {@code <dir>/checkpoint-N/} (the model in the Hugging Face layout, plus
 * {@code trainer_state.json} and {@code optimizer.safetensors}), the newest named by
 * {@code <dir>/latest}.
 *
 * <p>Crash safety: a checkpoint is written into {@code .checkpoint-N.partial/} and renamed to
 * {@code checkpoint-N} in one atomic move once every file in it is fsync'd; {@code latest} is
 * replaced by an atomic rename of a temp file; an old checkpoint is first renamed to
 * {@code .checkpoint-M.deleting} and only then deleted. So a kill at any instant leaves every
 * {@code checkpoint-N} directory complete, and the leftovers (dot-directories) are removed by the
 * next {@link #cleanLeftovers()}.
 */
public final class CheckpointStore {

    public static final String STATE_FILE = "trainer_state.json";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String LATEST = "latest";
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Writes the model part (HF layout) into a directory that does not exist yet; it creates it. */
    @FunctionalInterface
    public interface ModelWriter {
        void save(Path dir) throws IOException;
    }

    private final Path dir;
    private final int keepLast;

    public CheckpointStore(Path dir, int keepLast) {
        if (keepLast < 1) throw new IllegalArgumentException("keep at least one checkpoint, got " + keepLast);
        this.dir = dir;
        this.keepLast = keepLast;
    }

    public Path dir() {
        return dir;
    }

    public static Path checkpointDir(Path dir, long step) {
        return dir.resolve("checkpoint-" + step);
    }

    /**
     * Writes checkpoint {@code step} atomically: the model, the optimizer tensors (float32) and the
     * state JSON, then points {@code latest} at it and deletes all but the newest {@code keepLast}.
     */
    public Path save(long step, ModelWriter model, Map<String, float[]> optimizerTensors, JsonNode state) {
        try {
            Files.createDirectories(dir);
            Path partial = dir.resolve(".checkpoint-" + step + ".partial");
            if (Files.exists(partial)) deleteRecursively(partial);
            model.save(partial);
            Files.createDirectories(partial);
            FaultPoints.reach(FaultPoints.CHECKPOINT_WRITE);
            List<NamedTensor> ts = new ArrayList<>();
            optimizerTensors.forEach((k, v) -> ts.add(new NamedTensor(k, new int[] {v.length}, v)));
            SafetensorsWriter.write(partial.resolve(OPTIMIZER_FILE), ts, DType.F32, Map.of("format", "pt"));
            writeSynced(partial.resolve(STATE_FILE), JSON.writeValueAsBytes(state));
            fsyncDir(partial);

            Path target = checkpointDir(dir, step);
            if (Files.exists(target)) retire(target);
            atomicMove(partial, target);
            fsyncDir(dir);

            Path tmp = dir.resolve(".latest.tmp");
            writeSynced(tmp, target.getFileName().toString().getBytes(StandardCharsets.UTF_8));
            atomicMove(tmp, dir.resolve(LATEST));
            fsyncDir(dir);

            List<Path> all = list();
            for (int i = 0; i < all.size() - keepLast; i++) if (!all.get(i).equals(target)) retire(all.get(i));
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + step + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Complete checkpoints, oldest first. */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve(STATE_FILE)))
                    .sorted(Comparator.comparingLong(CheckpointStore::stepOf))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    /** The checkpoint {@code latest} names, or the newest complete one when {@code latest} is missing or stale. */
    public Optional<Path> latest() {
        Path l = dir.resolve(LATEST);
        if (Files.isRegularFile(l)) {
            try {
                String name = Files.readString(l, StandardCharsets.UTF_8).strip();
                Path p = dir.resolve(name);
                if (NAME.matcher(name).matches() && Files.isRegularFile(p.resolve(STATE_FILE))) return Optional.of(p);
            } catch (IOException e) {
                // fall through to the scan
            }
        }
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Removes the temp and half-deleted directories a killed run may have left. */
    public void cleanLeftovers() {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) deleteRecursively(p);   // partial, deleting and temp entries
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean leftovers in " + dir, e);
        }
    }

    public static long stepOf(Path checkpoint) {
        Matcher m = NAME.matcher(checkpoint.getFileName().toString());
        if (!m.matches()) throw new IllegalArgumentException(checkpoint + " is not a checkpoint-N directory");
        return Long.parseLong(m.group(1));
    }

    /** The state JSON of a checkpoint. */
    public static JsonNode readState(Path checkpoint) {
        Path f = checkpoint.resolve(STATE_FILE);
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /** The optimizer tensors of a checkpoint. */
    public static Map<String, float[]> readOptimizer(Path checkpoint) {
        Path f = checkpoint.resolve(OPTIMIZER_FILE);
        try (SafetensorsReader r = SafetensorsReader.open(f)) {
            return r.loadAllFloats();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    private void retire(Path p) throws IOException {
        Path gone = dir.resolve("." + p.getFileName() + ".deleting");
        if (Files.exists(gone)) deleteRecursively(gone);
        atomicMove(p, gone);
        deleteRecursively(gone);
    }

    static void writeSynced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    static void atomicMove(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + to.getParent() + " cannot rename atomically; checkpoints need it", e);
        }
    }

    static void fsyncDir(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems cannot open a directory for fsync; the renames are still atomic
        }
    }

    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}

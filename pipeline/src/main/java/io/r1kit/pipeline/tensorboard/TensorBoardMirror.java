package io.r1kit.pipeline.tensorboard;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.pipeline.dashboard.MetricsTail;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Mirrors a run's {@code metrics.jsonl} into TensorBoard event files while the run writes it
 * ({@code tensorboard: true} in the run config): {@code tensorboard/<stage>/events.out.tfevents.*},
 * one TensorBoard run per stage (steps restart at each stage), one event per metrics line with
 * every numeric value as a scalar, at the line's step and {@code wall_time}.
 *
 * <p>{@code metrics.jsonl} stays the record: the mirror starts by rewriting the event files from
 * it, and does so again whenever it is rewritten (a resumed run drops the steps after its
 * checkpoint), so the event files never hold steps the metrics no longer have.
 */
public final class TensorBoardMirror implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TensorBoardMirror.class);
    static final String SUFFIX = ".r1kit";
    static final long PERIOD_MILLIS = 2000;

    private final Path dir;
    private final MetricsTail tail;
    private final Map<String, EventFileWriter> writers = new LinkedHashMap<>();
    private final ScheduledExecutorService timer;
    private long generation = -1;
    private int written;

    private TensorBoardMirror(Path runDir, boolean follow) {
        this.dir = runDir.resolve("tensorboard");
        this.tail = new MetricsTail(runDir.resolve("metrics.jsonl"));
        if (!follow) {
            this.timer = null;
            return;
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tensorboard-mirror");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                sync();
            } catch (RuntimeException e) {
                LOG.warn("tensorboard: {}", e.getMessage());
            }
        }, 0, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Starts following the run's metrics (every 2 s, and once more on {@link #close}). */
    public static TensorBoardMirror follow(Path runDir) {
        return new TensorBoardMirror(runDir, true);
    }

    /** Writes the event files of a run's metrics as they are now. */
    public static Path writeOnce(Path runDir) {
        try (TensorBoardMirror m = new TensorBoardMirror(runDir, false)) {
            m.sync();
            return m.dir;
        }
    }

    /** Brings the event files up to date with metrics.jsonl. */
    public synchronized void sync() {
        tail.refresh();
        try {
            if (tail.generation() != generation) {
                closeWriters();
                deleteEventFiles();
                generation = tail.generation();
                written = 0;
            }
            var lines = tail.since(written);
            for (MetricsTail.Line l : lines) write(l.node());
            written += lines.size();
            for (EventFileWriter w : writers.values()) w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write TensorBoard events under " + dir, e);
        }
    }

    private void write(JsonNode n) throws IOException {
        if (!n.path("step").isNumber()) return;
        Map<String, Double> scalars = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("step") || f.getKey().equals("wall_time") || !f.getValue().isNumber()) continue;
            scalars.put(f.getKey(), f.getValue().asDouble());
        }
        if (scalars.isEmpty()) return;
        double wall = n.path("wall_time").isNumber() ? n.get("wall_time").asDouble() : System.currentTimeMillis() / 1000.0;
        String stage = n.path("stage").asText("");
        EventFileWriter w = writers.get(stage);
        if (w == null) {
            Path sub = dir.resolve(stage.isEmpty() ? "run" : stage.replaceAll("[^A-Za-z0-9._-]", "_"));
            Files.createDirectories(sub);
            Path file = sub.resolve("events.out.tfevents." + (long) wall + "." + host() + SUFFIX);
            w = new EventFileWriter(new BufferedOutputStream(Files.newOutputStream(file)), wall);
            writers.put(stage, w);
        }
        w.scalars(wall, n.get("step").asLong(), scalars);
    }

    /** Removes the event files this mirror writes (ones named *.r1kit), leaving anything else alone. */
    private void deleteEventFiles() throws IOException {
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.")
                    && p.getFileName().toString().endsWith(SUFFIX)).toList()) {
                Files.delete(p);
            }
        }
    }

    private void closeWriters() throws IOException {
        for (EventFileWriter w : writers.values()) w.close();
        writers.clear();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9.-]", "_");
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** A last sync, then the files are closed. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdown();   // cancels the periodic sync; one under way finishes
            try {
                timer.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (timer != null) sync();
            try {
                closeWriters();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close TensorBoard events under " + dir, e);
            }
        }
    }
}

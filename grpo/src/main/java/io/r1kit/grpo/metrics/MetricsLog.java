package io.r1kit.grpo.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.grpo.checkpoint.FaultPoints;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl}: one JSON object per line, flushed after each line so a killed run loses at
 * most the line being written. Values are numbers (NaN and ±Inf are written as null: JSON has no
 * NaN), strings or booleans, in insertion order, followed by {@code wall_time} (seconds since the
 * epoch when the line was written, as TensorBoard's events carry; the dashboard's wall-time axis).
 * On resume, {@link #truncateAfter} drops the lines of steps after the checkpoint (they will be run again), so each step appears exactly once.
 */
public final class MetricsLog implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final BufferedWriter out;

    /** Opens {@code file} for appending (created if absent). */
    public MetricsLog(Path file) {
        this.file = file;
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open metrics file " + file, e);
        }
    }

    public Path file() {
        return file;
    }

    /** Writes one line, with its {@code wall_time} unless the caller gave one, and flushes it. */
    public synchronized void write(Map<String, ?> values) {
        Map<String, Object> line = new LinkedHashMap<>(values);
        line.putIfAbsent("wall_time", System.currentTimeMillis() / 1000.0);
        try {
            String text = toJson(line);
            if (FaultPoints.armed(FaultPoints.METRICS_LINE)) {   // fault injection: a crash mid-line
                out.write(text, 0, text.length() / 2);
                out.flush();
            }
            FaultPoints.reach(FaultPoints.METRICS_LINE);
            out.write(text);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write metrics to " + file, e);
        }
    }

    /** One JSON line (no newline); non-finite doubles become null. */
    public static String toJson(Map<String, ?> values) {
        ObjectNode o = JSON.createObjectNode();
        for (Map.Entry<String, ?> e : values.entrySet()) {
            Object v = e.getValue();
            String k = e.getKey();
            if (v == null) o.putNull(k);
            else if (v instanceof Integer i) o.put(k, i);
            else if (v instanceof Long l) o.put(k, l);
            else if (v instanceof Number n) {
                double d = n.doubleValue();
                if (Double.isFinite(d)) o.put(k, d); else o.putNull(k);
            } else if (v instanceof Boolean b) o.put(k, b);
            else if (v instanceof JsonNode j) o.set(k, j);
            else o.put(k, v.toString());
        }
        try {
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Rewrites {@code file} keeping only lines whose {@code step} is ≤ {@code step} (a torn last line,
     * from a kill mid-write, is dropped too). Atomic: a temp file is renamed over the old one.
     *
     * @return the number of lines dropped
     */
    public static int truncateAfter(Path file, long step) {
        return truncateAfter(file, step, null);
    }

    /**
     * As {@link #truncateAfter(Path, long)}, but only lines of {@code stage} are candidates for
     * dropping (null = every line): in a metrics file shared by a pipeline's stages, resuming one
     * stage must leave the other stages' lines alone. A torn line is dropped whatever its stage.
     */
    public static int truncateAfter(Path file, long step, String stage) {
        if (!Files.exists(file)) return 0;
        try {
            List<String> kept = new ArrayList<>();
            int dropped = 0;
            for (String line : linesKeepingTorn(file)) {
                if (line == null) {   // not UTF-8: a line torn inside a multi-byte character
                    dropped++;
                    continue;
                }
                if (line.isBlank()) continue;
                JsonNode n;
                try {
                    n = JSON.readTree(line);
                } catch (IOException e) {
                    dropped++;
                    continue;
                }
                boolean ours = stage == null || (n != null && stage.equals(n.path("stage").asText(null)));
                if (ours && n != null && n.has("step") && n.get("step").asLong() > step) dropped++;
                else kept.add(line);
            }
            if (dropped == 0) return 0;
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, kept.isEmpty() ? List.of() : kept, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return dropped;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot truncate metrics file " + file + " after step " + step, e);
        }
    }

    /**
     * The file's lines, each decoded on its own so that one line cut inside a multi-byte character
     * (a write interrupted by a crash) does not make the whole file unreadable: such a line is null.
     */
    static List<String> linesKeepingTorn(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == '\n') {
                if (i > start || i < all.length) {
                    try {
                        out.add(StandardCharsets.UTF_8.newDecoder()
                                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                                .decode(ByteBuffer.wrap(all, start, i - start)).toString());
                    } catch (CharacterCodingException e) {
                        out.add(null);
                    }
                }
                start = i + 1;
            }
        }
        return out;
    }

    /** Whether {@code file} holds any line of {@code stage} (null = any line at all). */
    public static boolean hasLines(Path file, String stage) {
        if (!Files.exists(file)) return false;
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.filter(l -> !l.isBlank()).anyMatch(l -> {
                if (stage == null) return true;
                try {
                    return stage.equals(JSON.readTree(l).path("stage").asText(null));
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metrics file " + file, e);
        }
    }

    /** Every line of a metrics file, parsed (for tests and reports). */
    public static List<JsonNode> read(Path file) {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) out.add(JSON.readTree(line));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metrics file " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close metrics file " + file, e);
        }
    }
}

package io.r1kit.pipeline.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Arrays;

/**
 * Follows a {@code metrics.jsonl} that a run is writing: each {@link #refresh} reads only the bytes
 * appended since the last one, and keeps complete lines (a line still being written waits for its
 * newline). A resumed run rewrites the file (it drops the steps after its checkpoint and renames a
 * new file over the old one); a new file identity or a shorter file starts over and bumps the
 * {@link #generation}, so a follower knows its rows are stale.
 */
public final class MetricsTail {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a stage got to: its last step and epoch (NaN when its lines carry none). */
    public record StageProgress(long lastStep, double lastEpoch, int lines) {}

    /** One parsed line with its raw text (the text is sent as is). */
    public record Line(String text, JsonNode node) {}

    private final Path file;
    private Object fileKey;
    private long offset;
    private long generation;
    private long modified;
    private final List<Line> lines = new ArrayList<>();
    private final Map<String, StageProgress> progress = new LinkedHashMap<>();

    public MetricsTail(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /** Reads what was appended (or everything, after a rewrite). Returns whether anything changed. */
    public synchronized boolean refresh() {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            if (lines.isEmpty() && offset == 0) return false;
            reset();
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        boolean changed = false;
        Object key = a.fileKey() != null ? a.fileKey() : a.creationTime();
        if (fileKey != null && (!Objects.equals(key, fileKey) || a.size() < offset)) {
            reset();
            changed = true;
        }
        fileKey = key;
        modified = a.lastModifiedTime().toMillis();
        if (a.size() <= offset) return changed;
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 8, size - offset));
            ch.position(offset);
            while (buf.hasRemaining() && ch.read(buf) > 0) { /* read to the end */ }
            bytes = Arrays.copyOf(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            return changed;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') end--;
        if (end == 0) return changed;
        offset += end;
        for (String l : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
            if (l.isBlank()) continue;
            JsonNode n;
            try {
                n = JSON.readTree(l);
            } catch (IOException e) {
                continue;   // a torn line left by a killed writer, followed by the resumed run's lines
            }
            if (n == null || !n.isObject()) continue;
            lines.add(new Line(l.strip(), n));
            String stage = n.path("stage").asText("");
            StageProgress p = progress.getOrDefault(stage, new StageProgress(-1, Double.NaN, 0));
            long step = n.path("step").isNumber() ? Math.max(p.lastStep(), n.get("step").asLong()) : p.lastStep();
            double epoch = n.path("epoch").isNumber() ? n.get("epoch").asDouble() : p.lastEpoch();
            progress.put(stage, new StageProgress(step, epoch, p.lines() + 1));
        }
        return true;
    }

    private void reset() {
        lines.clear();
        progress.clear();
        offset = 0;
        fileKey = null;
        generation++;
    }

    /** Bumped whenever the file was rewritten or removed: rows read before are no longer valid. */
    public synchronized long generation() {
        return generation;
    }

    public synchronized int size() {
        return lines.size();
    }

    /** The lines from index {@code from} on. */
    public synchronized List<Line> since(int from) {
        return List.copyOf(lines.subList(Math.min(Math.max(0, from), lines.size()), lines.size()));
    }

    public synchronized Map<String, StageProgress> progress() {
        return Map.copyOf(progress);
    }

    /** The file's last modification (epoch millis) at the last refresh; 0 when it does not exist. */
    public synchronized long modified() {
        return modified;
    }
}

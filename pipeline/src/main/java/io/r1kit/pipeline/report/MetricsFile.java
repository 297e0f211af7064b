package io.r1kit.pipeline.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The rows of a run's {@code metrics.jsonl}: one JSON object per line, each with {@code stage},
 * {@code step} and the trainer's metric keys. A torn last line (the process was killed while
 * writing it) is ignored rather than failing the report.
 */
public final class MetricsFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<ObjectNode> rows;

    private MetricsFile(List<ObjectNode> rows) {
        this.rows = rows;
    }

    public static MetricsFile read(Path file) {
        List<ObjectNode> rows = new ArrayList<>();
        if (!Files.exists(file)) return new MetricsFile(rows);
        try (BufferedReader r = Files.newBufferedReader(file)) {
            String line;
            int lineNo = 0;
            List<String> lines = new ArrayList<>();
            while ((line = r.readLine()) != null) lines.add(line);
            for (String l : lines) {
                lineNo++;
                if (l.isBlank()) continue;
                try {
                    JsonNode n = JSON.readTree(l);
                    if (n instanceof ObjectNode o) rows.add(o);
                } catch (IOException e) {
                    if (lineNo != lines.size()) {
                        throw new IllegalArgumentException(file + ":" + lineNo + ": not a JSON object: " + e.getMessage());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return new MetricsFile(rows);
    }

    public List<ObjectNode> rows() {
        return rows;
    }

    /** Stage names in the order they first appear. */
    public List<String> stages() {
        Set<String> s = new LinkedHashSet<>();
        for (ObjectNode r : rows) if (r.hasNonNull("stage")) s.add(r.get("stage").asText());
        return new ArrayList<>(s);
    }

    /** Metric keys present in a stage's rows, in first-seen order. */
    public List<String> keys(String stage) {
        Set<String> s = new LinkedHashSet<>();
        for (ObjectNode r : rows) {
            if (stage.equals(r.path("stage").asText())) r.fieldNames().forEachRemaining(s::add);
        }
        return new ArrayList<>(s);
    }

    /** (step, value) pairs of one metric in one stage, skipping rows without a numeric value. */
    public Series series(String stage, String key) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (ObjectNode r : rows) {
            if (!stage.equals(r.path("stage").asText())) continue;
            JsonNode v = r.get(key);
            if (v == null || !v.isNumber() || !r.path("step").isNumber()) continue;
            double d = v.asDouble();
            if (!Double.isFinite(d)) continue;
            x.add(r.get("step").asDouble());
            y.add(d);
        }
        return new Series(key, x, y);
    }

    /** One curve: a name and its x (step) and y values. */
    public record Series(String name, List<Double> x, List<Double> y) {
        public boolean isEmpty() {
            return x.isEmpty();
        }

        public Series named(String newName) {
            return new Series(newName, x, y);
        }

        /** Mean of the last {@code fraction} of the values (e.g. 0.2 = last 20% of steps). */
        public double tailMean(double fraction) {
            int n = y.size();
            if (n == 0) return Double.NaN;
            int from = Math.max(0, n - Math.max(1, (int) Math.round(n * fraction)));
            return y.subList(from, n).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        /** Mean of the first {@code fraction} of the values. */
        public double headMean(double fraction) {
            int n = y.size();
            if (n == 0) return Double.NaN;
            int to = Math.min(n, Math.max(1, (int) Math.round(n * fraction)));
            return y.subList(0, to).stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }
    }
}

package io.r1kit.data;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * Count, columns and the length distribution of every text column of a dataset file, in characters and
 * (given a token counter) in tokens. Streams the file; keeps one int per example per text column.
 */
public final class DatasetStats {
    /** Lengths of one text column. */
    public static final class Lengths {
        private int[] values = new int[1024];
        private int n;

        void add(int v) {
            if (n == values.length) values = Arrays.copyOf(values, values.length * 2);
            values[n++] = v;
        }

        public int count() { return n; }

        /** Summary: min, mean, p50, p90, p99, max (nearest-rank percentiles). */
        public Summary summary() {
            int[] s = Arrays.copyOf(values, n);
            Arrays.sort(s);
            long sum = 0;
            for (int v : s) sum += v;
            return new Summary(n, s[0], (double) sum / n, rank(s, 0.5), rank(s, 0.9), rank(s, 0.99), s[n - 1]);
        }

        private static int rank(int[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }
    }

    public record Summary(int count, int min, double mean, int p50, int p90, int p99, int max) {}

    private final ReadReport report;
    private final long count;
    private final Map<String, Long> columnCounts;
    private final Map<String, Lengths> chars;
    private final Map<String, Lengths> tokens;

    private DatasetStats(ReadReport report, long count, Map<String, Long> columnCounts, Map<String, Lengths> chars,
                         Map<String, Lengths> tokens) {
        this.report = report;
        this.count = count;
        this.columnCounts = columnCounts;
        this.chars = chars;
        this.tokens = tokens;
    }

    /** Reads the file (invalid records are counted and skipped); {@code tokenCounter} may be null. */
    public static DatasetStats of(Path file, ToIntFunction<String> tokenCounter) {
        DatasetReader reader = new DatasetReader(file, null, Map.of(), true, "id");
        ReadReport report = new ReadReport(file);
        Map<String, Long> cols = new LinkedHashMap<>();
        Map<String, Lengths> chars = new LinkedHashMap<>();
        Map<String, Lengths> toks = tokenCounter == null ? null : new LinkedHashMap<>();
        long[] count = {0};
        try (Stream<Example> s = reader.stream(report)) {
            s.forEach(e -> {
                count[0]++;
                e.columns().forEach((k, v) -> {
                    cols.merge(k, 1L, Long::sum);
                    if (v instanceof String text) {
                        chars.computeIfAbsent(k, x -> new Lengths()).add(text.length());
                        if (toks != null) toks.computeIfAbsent(k, x -> new Lengths()).add(tokenCounter.applyAsInt(text));
                    }
                });
            });
        }
        return new DatasetStats(report, count[0], cols, chars, toks);
    }

    public long count() { return count; }
    public long skipped() { return report.skipped(); }
    /** Column name to the number of examples that have it, in first-seen order. */
    public Map<String, Long> columnCounts() { return columnCounts; }
    public Map<String, Lengths> charLengths() { return chars; }
    /** Null when no token counter was given. */
    public Map<String, Lengths> tokenLengths() { return tokens; }

    public void print(PrintStream out, String tokenNote) {
        out.println("file: " + report.file());
        out.println("examples: " + count + (report.skipped() > 0 ? " (" + report.skipped() + " invalid records skipped)" : ""));
        StringBuilder sb = new StringBuilder();
        columnCounts.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k)
                .append(v == count ? "" : " (" + v + ")"));
        out.println("columns: " + sb);
        printTable(out, "length in characters", chars);
        if (tokens != null) printTable(out, "length in tokens", tokens);
        else if (tokenNote != null) out.println("length in tokens: " + tokenNote);
        for (String w : report.warnings()) out.println("skipped: " + w);
    }

    private static void printTable(PrintStream out, String title, Map<String, Lengths> m) {
        out.println(title + ":");
        int w = Math.max(6, m.keySet().stream().mapToInt(String::length).max().orElse(6));
        out.printf("  %-" + w + "s %9s %7s %10s %7s %7s %7s %7s%n", "column", "count", "min", "mean", "p50", "p90", "p99", "max");
        m.forEach((k, l) -> {
            Summary s = l.summary();
            out.printf("  %-" + w + "s %9d %7d %10.1f %7d %7d %7d %7d%n", k, s.count(), s.min(), s.mean(), s.p50(), s.p90(),
                    s.p99(), s.max());
        });
    }
}

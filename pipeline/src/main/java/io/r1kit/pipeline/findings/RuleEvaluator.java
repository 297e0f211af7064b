package io.r1kit.pipeline.findings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.report.MetricsFile;
import io.r1kit.pipeline.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a {@link Rule} on the run directories of a finding ({@code variant → seed → run dir}),
 * reading every value from the runs' {@code metrics.jsonl} and {@code eval/<stage>.json}. A metric a
 * run does not have is an error naming the finding, the metric and the file, never a silent "does not
 * hold".
 */
public final class RuleEvaluator {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One side of a check: the quantity's value for each seed (seed order of the runs), with mean and spread. */
    public record Side(String variant, String label, Map<Long, Double> bySeed, double mean, double std) {}

    /**
     * A check's outcome.
     *
     * @param onMean      the compared value on the means (ratio, difference, or left)
     * @param bySeed      the compared value on each seed
     * @param passed      requirement → passed
     */
    public record CheckResult(Rule.Check check, Side left, Side right, double onMean, double spread, Map<Long, Double> bySeed,
                              Map<Rule.Require, Boolean> passed, boolean holds) {}

    /** The verdict: whether the finding holds, why not when not, and every measured value. */
    public record Verdict(boolean holds, List<String> reasons, int seeds, List<CheckResult> checks,
                          Map<String, Map<String, Map<String, Double>>> measured) {}

    private final String finding;
    private final String defaultStage;
    private final Map<String, Map<Long, Path>> runs;
    private final Map<Path, MetricsFile> metricsCache = new HashMap<>();

    /**
     * @param finding      the finding's name (for messages)
     * @param defaultStage the stage a quantity without {@code stage} reads
     * @param runs         variant → seed → run directory, in the ablation's order
     */
    public RuleEvaluator(String finding, String defaultStage, Map<String, Map<Long, Path>> runs) {
        if (runs.isEmpty()) throw new IllegalArgumentException("finding '" + finding + "': no runs to evaluate");
        this.finding = finding;
        this.defaultStage = defaultStage;
        this.runs = runs;
    }

    public Verdict evaluate(Rule rule) {
        List<String> reasons = new ArrayList<>();
        int seeds = runs.values().stream().mapToInt(Map::size).min().orElse(0);
        if (seeds < rule.minSeeds()) {
            reasons.add("ran " + seeds + " seed(s) per variant; the rule needs at least " + rule.minSeeds());
        }
        Map<String, Map<String, Map<String, Double>>> measured = new LinkedHashMap<>();
        List<CheckResult> results = new ArrayList<>();
        for (Rule.Check c : rule.checks()) {
            Side l = side(c.left(), measured);
            Side r = c.right() == null ? null : side(c.right(), measured);
            if (r != null && !l.bySeed().keySet().equals(r.bySeed().keySet())) {
                throw new ConfigException("finding '" + finding + "', check '" + c.name() + "': the two sides ran different seeds ("
                        + l.bySeed().keySet() + " vs " + r.bySeed().keySet() + ")");
            }
            double rMean = r == null ? Double.NaN : r.mean();
            double spread = Math.max(l.std(), r == null ? 0 : r.std());
            double onMean = c.value(l.mean(), rMean);
            Map<Rule.Require, Boolean> passed = new LinkedHashMap<>();
            Map<Long, Double> bySeed = new LinkedHashMap<>();
            boolean every = true, direction = true;
            for (Map.Entry<Long, Double> e : l.bySeed().entrySet()) {
                double rv = r == null ? Double.NaN : r.bySeed().get(e.getKey());
                bySeed.put(e.getKey(), c.value(e.getValue(), rv));
                every &= c.passes(e.getValue(), rv, 0);
                direction &= e.getValue() > rv;
            }
            for (Rule.Require q : c.require()) {
                passed.put(q, switch (q) {
                    case MEAN -> c.passes(l.mean(), rMean, spread);
                    case EVERY_SEED -> every;
                    case SAME_DIRECTION -> direction;
                });
            }
            boolean holds = passed.values().stream().allMatch(b -> b);
            if (!holds) {
                List<String> failed = passed.entrySet().stream().filter(e -> !e.getValue()).map(e -> e.getKey().name().toLowerCase()).toList();
                reasons.add("check '" + c.name() + "' fails (" + c.comparison() + ") on " + String.join(", ", failed));
            }
            results.add(new CheckResult(c, l, r, onMean, spread, bySeed, passed, holds));
        }
        return new Verdict(reasons.isEmpty(), reasons, seeds, results, measured);
    }

    private Side side(Rule.Quantity q, Map<String, Map<String, Map<String, Double>>> measured) {
        String variant = variantOf(q);
        String label = q.label(defaultStage);
        Map<Long, Double> bySeed = new LinkedHashMap<>();
        for (Map.Entry<Long, Path> e : runs.get(variant).entrySet()) {
            double v = value(q, e.getValue());
            bySeed.put(e.getKey(), v);
            measured.computeIfAbsent(variant, k -> new LinkedHashMap<>()).computeIfAbsent("seed-" + e.getKey(), k -> new LinkedHashMap<>())
                    .put(label, v);
        }
        double mean = bySeed.values().stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double ss = 0;
        for (double v : bySeed.values()) ss += (v - mean) * (v - mean);
        double std = bySeed.size() > 1 ? Math.sqrt(ss / (bySeed.size() - 1)) : 0;
        return new Side(variant, label, bySeed, mean, std);
    }

    private String variantOf(Rule.Quantity q) {
        if (q.variant() == null) {
            if (runs.size() == 1) return runs.keySet().iterator().next();
            throw new ConfigException("finding '" + finding + "': quantity '" + q.metric() + "' needs 'variant' (one of " + runs.keySet() + ")");
        }
        if (!runs.containsKey(q.variant())) {
            throw new ConfigException("finding '" + finding + "': quantity '" + q.metric() + "' names variant '" + q.variant()
                    + "', which the finding does not run (its variants: " + runs.keySet() + ")");
        }
        return q.variant();
    }

    /** The quantity's value in one run directory. */
    double value(Rule.Quantity q, Path runDir) {
        RunDirectory dir = new RunDirectory(runDir);
        if (q.eval() != null) {
            Path f = dir.evalFile(q.eval());
            if (!Files.exists(f)) {
                throw new MissingMetricException("finding '" + finding + "': metric '" + q.metric() + "' needs " + f + ", which does not exist");
            }
            JsonNode n;
            try {
                n = JSON.readTree(f.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("finding '" + finding + "': cannot read " + f, e);
            }
            JsonNode v = n.get(q.metric());
            if (v == null || !v.isNumber()) {
                List<String> keys = new ArrayList<>();
                n.fieldNames().forEachRemaining(keys::add);
                throw new MissingMetricException("finding '" + finding + "': metric '" + q.metric() + "' is not a number in " + f
                        + (v == null ? " (absent; its keys: " + keys + ")" : " (it is " + v + ")"));
            }
            return v.asDouble();
        }
        String stage = q.stage() != null ? q.stage() : defaultStage;
        Path f = dir.metricsFile();
        MetricsFile m = metricsCache.computeIfAbsent(f, MetricsFile::read);
        MetricsFile.Series s = m.series(stage, q.metric());
        if (s.isEmpty()) {
            String what = !Files.exists(f) ? "the file does not exist"
                    : !m.stages().contains(stage) ? "it has no rows of stage '" + stage + "' (its stages: " + m.stages() + ")"
                    : m.keys(stage).contains(q.metric()) ? "the metric has no finite value in stage '" + stage + "'"
                    : "stage '" + stage + "' rows have no such key (its keys: " + m.keys(stage) + ")";
            throw new MissingMetricException("finding '" + finding + "': metric '" + q.metric() + "' not found in " + f + ": " + what);
        }
        return q.aggregate(s.y());
    }

    /** A quantity the rule reads is not in the run's files. */
    public static final class MissingMetricException extends ConfigException {
        public MissingMetricException(String message) {
            super(message);
        }
    }
}

package io.r1kit.pipeline.findings;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.ablate.AblationReport;
import io.r1kit.pipeline.report.CurvePlot;
import io.r1kit.pipeline.report.MetricsFile;
import io.r1kit.pipeline.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a finding run leaves in its root, next to the run directories: {@code finding.json} (the
 * claim, the rule, the verdict and every measured value per variant and seed), {@code finding.md}
 * and {@code finding.html} (verdict, checks table, plots) and {@code plots/finding-*.png}: each
 * metric the rule reads from {@code metrics.jsonl}, mean across seeds with a ± std band, one curve
 * per variant.
 */
public final class FindingReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The files written. */
    public record Written(Path json, Path html, Path markdown, List<Path> plots, RuleEvaluator.Verdict verdict, double seconds) {}

    private FindingReport() {}

    public static Written write(Finding f, RuleEvaluator.Verdict v, double seconds) {
        Path root = f.root();
        String trainStage = f.trainStage();
        List<Path> plots = plots(f, trainStage);
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", f.name());
        j.put("claim", f.claim());
        j.put("source", f.source());
        j.put("rule", f.ruleTree());
        j.put("holds", v.holds());
        j.put("reasons", v.reasons());
        j.put("seeds", v.seeds());
        j.put("checks", checksJson(v));
        j.put("measured", v.measured());
        j.put("train_stage", trainStage);
        j.put("variants", new ArrayList<>(f.runs().keySet()));
        j.put("elapsed_s", Math.round(seconds * 10) / 10.0);
        j.put("plots", plots.stream().map(p -> root.relativize(p).toString()).toList());
        Path json = root.resolve("finding.json");
        try {
            RunDirectory.writeAtomically(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + json, e);
        }
        Path md = root.resolve("finding.md");
        RunDirectory.writeAtomically(md, markdown(f, v, plots, seconds));
        Path html = root.resolve("finding.html");
        RunDirectory.writeAtomically(html, html(f, v, plots, seconds));
        return new Written(json, html, md, plots, v, seconds);
    }

    private static List<Map<String, Object>> checksJson(RuleEvaluator.Verdict v) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RuleEvaluator.CheckResult c : v.checks()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.check().name());
            m.put("comparison", c.check().comparison());
            m.put("left", sideJson(c.left()));
            if (c.right() != null) m.put("right", sideJson(c.right()));
            m.put("value_on_mean", finite(c.onMean()));
            if (Boolean.TRUE.equals(c.check().differenceMoreThanSpread())) m.put("spread", finite(c.spread()));
            Map<String, Object> bySeed = new LinkedHashMap<>();
            c.bySeed().forEach((s, x) -> bySeed.put("seed-" + s, finite(x)));
            m.put("value_by_seed", bySeed);
            Map<String, Object> passed = new LinkedHashMap<>();
            c.passed().forEach((q, b) -> passed.put(q.name().toLowerCase(Locale.ROOT), b));
            m.put("passed", passed);
            m.put("holds", c.holds());
            out.add(m);
        }
        return out;
    }

    private static Map<String, Object> sideJson(RuleEvaluator.Side s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", s.variant());
        m.put("quantity", s.label());
        Map<String, Object> bySeed = new LinkedHashMap<>();
        s.bySeed().forEach((seed, x) -> bySeed.put("seed-" + seed, finite(x)));
        m.put("by_seed", bySeed);
        m.put("mean", finite(s.mean()));
        m.put("std", finite(s.std()));
        return m;
    }

    /** One plot per metrics.jsonl metric the rule reads (stage by stage), every variant's mean ± std over seeds. */
    private static List<Path> plots(Finding f, String trainStage) {
        Set<List<String>> wanted = new LinkedHashSet<>();
        for (Rule.Check c : f.rule().checks()) {
            for (Rule.Quantity q : c.right() == null ? List.of(c.left()) : List.of(c.left(), c.right())) {
                if (q.eval() == null) wanted.add(List.of(q.stage() != null ? q.stage() : trainStage, q.metric()));
            }
        }
        Map<String, Map<Long, Path>> runs = f.runs();
        List<Path> out = new ArrayList<>();
        for (List<String> sm : wanted) {
            List<CurvePlot.Band> bands = new ArrayList<>();
            for (Map.Entry<String, Map<Long, Path>> v : runs.entrySet()) {
                List<MetricsFile.Series> perSeed = new ArrayList<>();
                for (Path run : v.getValue().values()) {
                    perSeed.add(MetricsFile.read(new RunDirectory(run).metricsFile()).series(sm.get(0), sm.get(1)));
                }
                CurvePlot.Band b = AblationReport.meanBand(v.getKey(), perSeed);
                if (b != null) bands.add(b);
            }
            Path png = f.root().resolve("plots").resolve("finding-" + (sm.get(0) + "-" + sm.get(1)).replaceAll("[^A-Za-z0-9._-]", "_") + ".png");
            String title = sm.get(1) + " (" + sm.get(0) + ", mean ± std over " + runs.values().iterator().next().size() + " seed(s))";
            if (CurvePlot.writeBands(png, title, sm.get(1), bands)) out.add(png);
        }
        return out;
    }

    static String verdictLine(RuleEvaluator.Verdict v) {
        return v.holds() ? "HOLDS" : "DOES NOT HOLD: " + String.join("; ", v.reasons());
    }

    private static String markdown(Finding f, RuleEvaluator.Verdict v, List<Path> plots, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("### ").append(f.name()).append("\n\n");
        sb.append("**Claim** (").append(f.source()).append("): ").append(f.claim()).append("\n\n");
        sb.append("**Verdict: ").append(verdictLine(v)).append("** (").append(v.seeds()).append(" seed(s) per variant; ")
                .append(Finding.Progress.minutes(seconds)).append(" for this invocation)\n\n");
        sb.append("| check | comparison | left | right | value on means | per seed | passed |\n");
        sb.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (RuleEvaluator.CheckResult c : v.checks()) {
            sb.append("| ").append(c.check().name()).append(" | ").append(c.check().comparison())
                    .append(Boolean.TRUE.equals(c.check().differenceMoreThanSpread()) ? " (spread " + f4(c.spread()) + ")" : "")
                    .append(" | ").append(side(c.left())).append(" | ").append(c.right() == null ? "–" : side(c.right()))
                    .append(" | ").append(f4(c.onMean())).append(" | ");
            List<String> ps = new ArrayList<>();
            c.bySeed().forEach((s, x) -> ps.add(s + ": " + f4(x)));
            sb.append(String.join(", ", ps)).append(" | ");
            List<String> pass = new ArrayList<>();
            c.passed().forEach((q, b) -> pass.add(q.name().toLowerCase(Locale.ROOT) + (b ? " ✓" : " ✗")));
            sb.append(String.join(", ", pass)).append(" |\n");
        }
        sb.append('\n');
        for (Path p : plots) sb.append("![").append(p.getFileName()).append("](").append(f.root().relativize(p)).append(")\n\n");
        return sb.toString();
    }

    private static String side(RuleEvaluator.Side s) {
        List<String> vals = new ArrayList<>();
        s.bySeed().values().forEach(x -> vals.add(f4(x)));
        return s.variant() + ": " + s.label() + " = " + f4(s.mean()) + " ± " + f4(s.std()) + " (" + String.join(", ", vals) + ")";
    }

    private static String html(Finding f, RuleEvaluator.Verdict v, List<Path> plots, double seconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Finding: ").append(esc(f.name())).append("</title>")
                .append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;font-size:90%}.holds{color:#1a7f37}.fails{color:#c62828}</style>")
                .append("</head><body>\n");
        sb.append("<h1>Finding: ").append(esc(f.name())).append("</h1>\n");
        sb.append("<p><b>Claim</b> (").append(esc(f.source())).append("): ").append(esc(f.claim())).append("</p>\n");
        sb.append("<h2 class=\"").append(v.holds() ? "holds" : "fails").append("\">").append(esc(verdictLine(v))).append("</h2>\n");
        sb.append("<p>").append(v.seeds()).append(" seed(s) per variant; this invocation took ").append(Finding.Progress.minutes(seconds))
                .append(". The verdict is computed from the runs' metrics.jsonl and eval files by the rule in the findings file.</p>\n");
        sb.append("<table><tr><th>check</th><th>comparison</th><th>left</th><th>right</th><th>value on means</th><th>per seed</th><th>passed</th></tr>\n");
        for (RuleEvaluator.CheckResult c : v.checks()) {
            List<String> ps = new ArrayList<>();
            c.bySeed().forEach((s, x) -> ps.add(s + ": " + f4(x)));
            List<String> pass = new ArrayList<>();
            c.passed().forEach((q, b) -> pass.add(q.name().toLowerCase(Locale.ROOT) + (b ? " ✓" : " ✗")));
            sb.append("<tr><td>").append(esc(c.check().name())).append("</td><td>").append(esc(c.check().comparison()))
                    .append("</td><td>").append(esc(side(c.left()))).append("</td><td>").append(c.right() == null ? "–" : esc(side(c.right())))
                    .append("</td><td>").append(f4(c.onMean())).append("</td><td>").append(esc(String.join(", ", ps)))
                    .append("</td><td>").append(esc(String.join(", ", pass))).append("</td></tr>\n");
        }
        sb.append("</table>\n");
        for (Path p : plots) sb.append("<p><img src=\"").append(esc(f.root().relativize(p).toString())).append("\"></p>\n");
        sb.append("<p>Per-run details: <a href=\"ablation.md\">ablation.md</a>, each run's report.html.</p>\n</body></html>\n");
        return sb.toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String f4(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.4g", d) : "–";
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }
}

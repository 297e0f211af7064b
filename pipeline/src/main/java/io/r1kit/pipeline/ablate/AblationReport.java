package io.r1kit.pipeline.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.dashboard.DashboardPage;
import io.r1kit.pipeline.report.CurvePlot;
import io.r1kit.pipeline.report.MetricsFile;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.StageSpec;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ablation's summary: {@code ablation.md} and {@code ablation.json} (per variant: final eval
 * accuracy mean ± std across seeds, format rate, mean completion length, training steps),
 * {@code report.html} (the dashboard's page with every run's data embedded) and
 * {@code plots/<metric>.png}, the variants' training curves overlaid, each the mean across seeds
 * with a ± std band.
 */
public final class AblationReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One variant's result across its seeds. */
    public record Row(String variant, int seeds, double accuracyMean, double accuracyStd, double formatRate,
                      double meanLength, double steps, List<Double> accuracyBySeed) {}

    public record Summary(Path markdown, Path json, List<Row> rows, List<Path> plots) {}

    private AblationReport() {}

    public static Summary write(Ablation a, List<Ablation.Combo> combos) {
        List<StageSpec> stages = a.stagesOf(combos.get(0));
        String evalStage = a.evalStage(stages);
        String trainStage = a.trainStage(stages);
        Map<String, List<Ablation.Combo>> byVariant = new LinkedHashMap<>();
        for (Ablation.Combo c : combos) byVariant.computeIfAbsent(c.variant(), k -> new ArrayList<>()).add(c);

        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, List<Ablation.Combo>> v : byVariant.entrySet()) {
            SummaryStatistics acc = new SummaryStatistics(), fmt = new SummaryStatistics(), len = new SummaryStatistics(),
                    steps = new SummaryStatistics();
            List<Double> bySeed = new ArrayList<>();
            for (Ablation.Combo c : v.getValue()) {
                RunDirectory dir = new RunDirectory(c.runDir());
                JsonNode eval = readJson(dir.evalFile(evalStage));
                if (eval != null) {
                    add(acc, eval.get("accuracy"));
                    add(fmt, eval.get("format_rate"));
                    add(len, eval.get("mean_length"));
                    bySeed.add(eval.path("accuracy").asDouble(Double.NaN));
                }
                MetricsFile.Series s = MetricsFile.read(dir.metricsFile()).series(trainStage, "step");
                if (!s.isEmpty()) steps.addValue(s.x().get(s.x().size() - 1));
            }
            rows.add(new Row(v.getKey(), v.getValue().size(), acc.getMean(), acc.getN() > 1 ? acc.getStandardDeviation() : 0,
                    fmt.getMean(), len.getMean(), steps.getMean(), bySeed));
        }

        List<Path> plots = new ArrayList<>();
        Path plotDir = a.root().resolve("plots");
        for (String metric : a.spec().curves()) {
            List<CurvePlot.Band> bands = new ArrayList<>();
            for (Map.Entry<String, List<Ablation.Combo>> v : byVariant.entrySet()) {
                List<MetricsFile.Series> perSeed = new ArrayList<>();
                for (Ablation.Combo c : v.getValue()) {
                    perSeed.add(MetricsFile.read(new RunDirectory(c.runDir()).metricsFile()).series(trainStage, metric));
                }
                CurvePlot.Band b = meanBand(v.getKey(), perSeed);
                if (b != null) bands.add(b);
            }
            Path png = plotDir.resolve(metric.replaceAll("[^A-Za-z0-9._-]", "_") + ".png");
            if (CurvePlot.writeBands(png, metric + " (" + trainStage + ", mean ± std over seeds)", metric, bands)) plots.add(png);
        }

        // the dashboard's page over every run of the ablation, data embedded (variants overlaid, seeds' mean ± std)
        String title = "r1kit ablation: " + a.name();
        RunDirectory.writeAtomically(a.root().resolve("report.html"),
                DashboardPage.staticPage(title, DashboardPage.embeddedData(a.root(), title), "<h1>" + title + "</h1><p>See ablation.md.</p>"));
        Path md = a.root().resolve("ablation.md");
        Path json = a.root().resolve("ablation.json");
        RunDirectory.writeAtomically(md, markdown(a, evalStage, trainStage, rows, plots));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("name", a.name());
        j.put("base", a.baseConfig().toString());
        j.put("eval_stage", evalStage);
        j.put("train_stage", trainStage);
        j.put("seeds", a.spec().seeds());
        List<Map<String, Object>> jr = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("variant", r.variant());
            m.put("seeds", r.seeds());
            m.put("accuracy_mean", finite(r.accuracyMean()));
            m.put("accuracy_std", finite(r.accuracyStd()));
            m.put("accuracy_by_seed", r.accuracyBySeed());
            m.put("format_rate", finite(r.formatRate()));
            m.put("mean_length", finite(r.meanLength()));
            m.put("steps", finite(r.steps()));
            jr.add(m);
        }
        j.put("variants", jr);
        j.put("plots", plots.stream().map(p -> a.root().relativize(p).toString()).toList());
        try {
            RunDirectory.writeAtomically(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Summary(md, json, rows, plots);
    }

    /** Mean and ± std across seeds at the steps all seeds have (runs of one variant log the same steps). */
    public static CurvePlot.Band meanBand(String name, List<MetricsFile.Series> perSeed) {
        List<MetricsFile.Series> present = perSeed.stream().filter(s -> !s.isEmpty()).toList();
        if (present.isEmpty()) return null;
        int n = present.stream().mapToInt(s -> s.x().size()).min().orElse(0);
        List<Double> x = new ArrayList<>(), mean = new ArrayList<>(), lo = new ArrayList<>(), hi = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            SummaryStatistics st = new SummaryStatistics();
            for (MetricsFile.Series s : present) st.addValue(s.y().get(i));
            double sd = st.getN() > 1 ? st.getStandardDeviation() : 0;
            x.add(present.get(0).x().get(i));
            mean.add(st.getMean());
            lo.add(st.getMean() - sd);
            hi.add(st.getMean() + sd);
        }
        MetricsFile.Series m = new MetricsFile.Series(name, x, mean);
        return present.size() > 1 ? new CurvePlot.Band(m, lo, hi) : new CurvePlot.Band(m, null, null);
    }

    private static String markdown(Ablation a, String evalStage, String trainStage, List<Row> rows, List<Path> plots) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Ablation: ").append(a.name()).append("\n\n");
        sb.append("Base config `").append(a.baseConfig()).append("`, seeds ").append(a.spec().seeds())
                .append(" (written to ").append(a.spec().seedKeys()).append("). Accuracy, format rate and length from `eval/")
                .append(evalStage).append(".json`; steps and curves from stage `").append(trainStage).append("`.\n\n");
        sb.append("| variant | accuracy (mean ± std) | format rate | mean length | steps | seeds |\n");
        sb.append("| --- | --- | --- | --- | --- | --- |\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s ± %s | %s | %s | %s | %d |%n", r.variant(), f3(r.accuracyMean()),
                    f3(r.accuracyStd()), f3(r.formatRate()), f1(r.meanLength()), f1(r.steps()), r.seeds()));
        }
        sb.append('\n');
        for (Path p : plots) {
            String rel = a.root().relativize(p).toString();
            sb.append("![").append(p.getFileName()).append("](").append(rel).append(")\n\n");
        }
        return sb.toString();
    }

    private static void add(SummaryStatistics s, JsonNode v) {
        if (v != null && v.isNumber() && Double.isFinite(v.asDouble())) s.addValue(v.asDouble());
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    private static String f3(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.3f", d) : "–";
    }

    private static String f1(double d) {
        return Double.isFinite(d) ? String.format(Locale.ROOT, "%.1f", d) : "–";
    }

    private static JsonNode readJson(Path f) {
        if (!Files.exists(f)) return null;
        try {
            return JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }
}

package io.r1kit.pipeline.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.dashboard.DashboardPage;
import io.r1kit.pipeline.run.RunDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes {@code report.html} for a run directory: the dashboard's page ({@link DashboardPage}) with
 * the run's data embedded, so a finished run opens anywhere with the same interactive charts, eval
 * table, samples and config; and PNG plots in {@code plots/}: per stage the reward and each reward
 * component, accuracy, completion length (correct vs wrong), KL, entropy, clip ratios and loss.
 * Can be rerun at any time ({@code r1kit report RUN_DIR}); it only reads the run's files.
 */
public final class ReportWriter {
    /** Charts need AWT (java.desktop) and XChart; a runtime without them (the GPU kit's) writes the report without plots. */
    static final boolean PLOTS = ModuleLayer.boot().findModule("java.desktop").isPresent()
            && ReportWriter.class.getClassLoader().getResource("org/knowm/xchart/XYChart.class") != null;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One chart: title, y label, and the metric keys drawn on it (prefix "rewards/*" expands). */
    record Chart(String file, String title, String yLabel, List<String> keys) {}

    static final List<Chart> CHARTS = List.of(
            new Chart("reward", "Reward", "reward", List.of("reward", "rewards/*/mean")),
            new Chart("accuracy", "Accuracy", "accuracy", List.of("rewards/accuracy/mean", "eval/accuracy")),
            new Chart("length", "Completion length", "tokens",
                    List.of("completions/mean_length", "completions/mean_length_correct", "completions/mean_length_incorrect")),
            new Chart("kl", "KL to reference", "kl", List.of("kl")),
            new Chart("entropy", "Entropy", "nats", List.of("entropy")),
            new Chart("clip", "Clip ratio", "fraction",
                    List.of("clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean")),
            new Chart("loss", "Loss", "loss", List.of("loss", "eval/loss")));

    private ReportWriter() {}

    /**
     * The run's name: {@code name} of the resolved config the run saved ({@code config.yaml}), so a run
     * started with {@code --run-dir X/run} is still titled by its config; the directory name when there is none.
     */
    static String runName(Path runDir) {
        Path cfg = runDir.resolve("config.yaml");
        if (Files.isRegularFile(cfg)) {
            try {
                JsonNode name = StrictYaml.YAML.readTree(cfg.toFile()).path("name");
                if (name.isTextual() && !name.asText().isBlank()) return name.asText();
            } catch (IOException e) {
                // an unreadable config.yaml leaves the directory name as the title
            }
        }
        Path file = runDir.toAbsolutePath().normalize().getFileName();
        return file == null ? runDir.toString() : file.toString();
    }

    /**
     * Writes the report and returns the path of report.html: the dashboard's page with the run's
     * data embedded (curves, eval table, samples, config, stage status), openable from disk with no
     * server and no network; plus the PNG plots in {@code plots/} for papers and markdown.
     */
    public static Path write(Path runDir) {
        MetricsFile metrics = MetricsFile.read(runDir.resolve("metrics.jsonl"));
        writePlots(runDir, metrics);
        String title = "r1kit report: " + runName(runDir);
        StringBuilder fallback = new StringBuilder("<h1>").append(esc(title)).append("</h1>");
        fallback.append(evalTable(runDir));
        if (!PLOTS) fallback.append("<p>Plots omitted: this Java runtime has no java.desktop module (e.g. the GPU kit's); ")
                .append("<code>r1kit report RUN_DIR</code> with a full JDK draws them from the same metrics.</p>");
        Path config = runDir.resolve("config.yaml");
        if (Files.exists(config)) fallback.append("<h2>Config</h2><pre>").append(esc(readString(config))).append("</pre>");
        String html = DashboardPage.staticPage(title, DashboardPage.embeddedData(runDir, title), fallback.toString());
        Path out = runDir.resolve("report.html");
        RunDirectory.writeAtomically(out, html);
        return out;
    }

    /** The eval table of a run as HTML (one row per stage, then every numeric value); empty without eval files. */
    public static String evalTableHtml(Path runDir) {
        return evalTable(runDir);
    }

    /** The PNG plots of every stage ({@code plots/<stage>-<chart>.png}); charts without data are left out. */
    static void writePlots(Path runDir, MetricsFile metrics) {
        Path plots = runDir.resolve("plots");
        for (String stage : metrics.stages()) {
            for (Chart c : CHARTS) {
                List<MetricsFile.Series> curves = new ArrayList<>();
                for (String key : expand(c.keys(), metrics.keys(stage))) curves.add(metrics.series(stage, key));
                if (PLOTS) CurvePlot.write(plots.resolve(safe(stage) + "-" + c.file() + ".png"), stage + ": " + c.title(), c.yLabel(), curves);
            }
        }
    }

    /** Expands "rewards/*&#47;mean" style patterns against the keys present. */
    static List<String> expand(List<String> patterns, List<String> present) {
        Set<String> out = new LinkedHashSet<>();
        for (String p : patterns) {
            int star = p.indexOf('*');
            if (star < 0) {
                out.add(p);
                continue;
            }
            String pre = p.substring(0, star), post = p.substring(star + 1);
            for (String k : present) {
                if (k.startsWith(pre) && k.endsWith(post) && k.length() > pre.length() + post.length()) out.add(k);
            }
        }
        return new ArrayList<>(out);
    }

    /** The side-by-side columns of the eval table, in this order (those no stage has are left out). */
    static final List<String> MAIN_COLUMNS = List.of("accuracy", "format_rate", "language_consistency", "language_mixing_rate",
            "mean_length", "reward_model_score", "pairwise_accuracy", "n");

    /**
     * One row per stage from eval/&lt;stage&gt;.json, in the order of the config's stages (files of
     * stages not in it after them, by time): the {@link #MAIN_COLUMNS} side by side, then every
     * numeric key of every stage in a details table. {@code language_consistency} falls back to the
     * {@code rewards/language_consistency/mean} of a GRPO/eval stage, and {@code reward_model_score}
     * to the mean of its reward-model rewards ({@code rewards/<label>/mean} of the config's
     * {@code reward_model} entries).
     */
    static String evalTable(Path runDir) {
        Path evalDir = runDir.resolve("eval");
        if (!Files.isDirectory(evalDir)) return "";
        List<String> order = new ArrayList<>();
        Set<String> rmLabels = new LinkedHashSet<>();
        readConfig(runDir, order, rmLabels);
        Map<String, JsonNode> files = new LinkedHashMap<>();
        try (Stream<Path> list = Files.list(evalDir)) {
            for (Path f : list.filter(p -> p.toString().endsWith(".json"))
                    .sorted(Comparator.comparing(ReportWriter::modified)).toList()) {
                files.put(f.getFileName().toString().replaceFirst("\\.json$", ""), JSON.readTree(f.toFile()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + evalDir, e);
        }
        if (files.isEmpty()) return "";
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (String st : order) if (files.containsKey(st)) rows.put(st, files.get(st));
        files.forEach(rows::putIfAbsent);
        Map<String, Map<String, Double>> main = new LinkedHashMap<>();
        rows.forEach((stage, n) -> main.put(stage, mainValues(n, rmLabels)));
        List<String> cols = new ArrayList<>();
        for (String c : MAIN_COLUMNS) if (main.values().stream().anyMatch(m -> m.containsKey(c))) cols.add(c);
        StringBuilder sb = new StringBuilder("<h2>Evaluation</h2><table><tr><th>stage</th>");
        for (String c : cols) sb.append("<th>").append(esc(c)).append("</th>");
        sb.append("</tr>");
        main.forEach((stage, m) -> {
            sb.append("<tr><td>").append(esc(stage)).append("</td>");
            for (String c : cols) {
                Double v = m.get(c);
                sb.append("<td>").append(v == null ? "" : fmt(v)).append("</td>");
            }
            sb.append("</tr>");
        });
        sb.append("</table>");
        // every numeric key, per stage
        Set<String> all = new LinkedHashSet<>();
        for (JsonNode n : rows.values()) n.fieldNames().forEachRemaining(k -> { if (n.get(k).isNumber()) all.add(k); });
        sb.append("<details><summary>all eval values</summary><table><tr><th>key</th>");
        for (String st : rows.keySet()) sb.append("<th>").append(esc(st)).append("</th>");
        sb.append("</tr>");
        for (String k : all) {
            sb.append("<tr><td>").append(esc(k)).append("</td>");
            for (JsonNode n : rows.values()) {
                JsonNode v = n.get(k);
                sb.append("<td>").append(v == null || !v.isNumber() ? "" : fmt(v.asDouble())).append("</td>");
            }
            sb.append("</tr>");
        }
        return sb.append("</table></details>").toString();
    }

    /** The main columns of one eval file, with the fallbacks for GRPO / eval stages. */
    static Map<String, Double> mainValues(JsonNode n, Set<String> rmLabels) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String c : MAIN_COLUMNS) if (n.path(c).isNumber()) m.put(c, n.get(c).asDouble());
        if (!m.containsKey("language_consistency") && n.path("rewards/language_consistency/mean").isNumber()) {
            m.put("language_consistency", n.get("rewards/language_consistency/mean").asDouble());
        }
        if (!m.containsKey("reward_model_score")) {
            double sum = 0;
            int k = 0;
            for (String l : rmLabels) {
                JsonNode v = n.path("rewards/" + l + "/mean");
                if (v.isNumber() && Double.isFinite(v.asDouble())) {
                    sum += v.asDouble();
                    k++;
                }
            }
            if (k > 0) m.put("reward_model_score", sum / k);
        }
        return m;
    }

    /** Stage order and the labels of reward-model rewards, from the run's resolved config.yaml (absent: nothing). */
    private static void readConfig(Path runDir, List<String> order, Set<String> rmLabels) {
        Path f = runDir.resolve("config.yaml");
        if (!Files.exists(f)) return;
        JsonNode cfg;
        try {
            cfg = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(f.toFile());
        } catch (IOException | RuntimeException e) {
            return;   // a report is still useful without the order
        }
        collectRm(cfg.path("rewards"), rmLabels);
        for (JsonNode st : cfg.path("stages")) {
            order.add(st.hasNonNull("name") ? st.get("name").asText() : st.path("type").asText());
            collectRm(st.path("rewards"), rmLabels);
        }
    }

    private static void collectRm(JsonNode rewards, Set<String> out) {
        for (JsonNode r : rewards) {
            if ("reward_model".equals(r.path("name").asText())) out.add(r.hasNonNull("label") ? r.get("label").asText() : "reward_model");
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static String readString(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}

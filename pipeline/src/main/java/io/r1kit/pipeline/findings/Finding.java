package io.r1kit.pipeline.findings;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.pipeline.ablate.Ablation;
import io.r1kit.pipeline.ablate.AblationSpec;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.StrictYaml;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A published finding reproduced on r1kit's universe: a file in {@code configs/findings/} that is an
 * ablation file (base run config, variants, seeds; see {@link AblationSpec}) plus
 * <pre>
 * claim: "…"            # the published claim, in words
 * source: "…"           # where it was published (paper, section, figure)
 * rule: {…}             # how the runs decide it ({@link Rule})
 * </pre>
 * Running it runs the ablation (runs in {@code <root>/<variant>/seed-<s>/}, stages shared and resumed
 * as the ablation runner does), evaluates the rule on the runs' metrics and writes
 * {@code finding.json} and {@code finding.html} in the root ({@link FindingReport}).
 */
public final class Finding {
    /** Keys of a findings file that are not the ablation's. */
    static final List<String> OWN_KEYS = List.of("claim", "source", "rule");

    private final String name;
    private final String claim;
    private final String source;
    private final Rule rule;
    private final JsonNode ruleTree;
    private final Ablation ablation;

    /**
     * @param file        the findings file
     * @param overrides   {@code KEY=VALUE} overrides of the findings file (e.g. {@code seeds=[1]})
     * @param runSets     overrides of the base run config appended to the file's {@code set} (e.g. {@code stages.r1_zero.max_steps=2})
     * @param seeds       when &gt; 0, run seeds 1..seeds instead of the file's
     * @param root        where the runs go (null: {@code runs/findings/<name>})
     */
    public Finding(Path file, List<String> overrides, List<String> runSets, int seeds, Path root) {
        List<String> all = new ArrayList<>(overrides);
        if (seeds > 0) {
            StringBuilder sb = new StringBuilder("seeds=[");
            for (int s = 1; s <= seeds; s++) sb.append(s == 1 ? "" : ", ").append(s);
            all.add(sb.append(']').toString());
        }
        StrictYaml.Loaded<JsonNode> loaded = StrictYaml.load(file, JsonNode.class, all);
        ObjectNode tree = ((ObjectNode) loaded.resolved()).deepCopy();
        String fileName = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        for (String k : OWN_KEYS) {
            if (!tree.hasNonNull(k)) throw new ConfigException(loaded.locate("") + ": a findings file needs '" + k + "'");
        }
        this.claim = tree.get("claim").asText();
        this.source = tree.get("source").asText();
        this.ruleTree = tree.get("rule");
        this.rule = loaded.bindAt("/rule", ruleTree, Rule.class);
        for (String k : OWN_KEYS) tree.remove(k);
        if (!runSets.isEmpty()) {
            ArrayNode set = tree.has("set") ? (ArrayNode) tree.get("set") : tree.putArray("set");
            runSets.forEach(set::add);
        }
        AblationSpec spec = loaded.bindAt("", tree, AblationSpec.class);
        this.name = spec.name() != null ? spec.name() : fileName;
        Path dir = root != null ? root : spec.runDir() != null ? Path.of(spec.runDir()) : Path.of("runs", "findings", name);
        this.ablation = new Ablation(file, new StrictYaml.Loaded<>(spec, tree, loaded.source(), loaded.where()), dir);
    }

    public String name() { return name; }
    public String claim() { return claim; }
    public String source() { return source; }
    public Rule rule() { return rule; }
    public JsonNode ruleTree() { return ruleTree; }
    public Ablation ablation() { return ablation; }
    public Path root() { return ablation.root(); }

    /** The findings files of a directory, by name. */
    public static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) throw new ConfigException("findings directory " + dir.toAbsolutePath() + " does not exist");
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches(".*\\.ya?ml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The findings file of a name ({@code <dir>/<name>.yaml}) or a path. */
    public static Path resolve(Path dir, String nameOrPath) {
        Path p = Path.of(nameOrPath);
        if (Files.isRegularFile(p)) return p;
        for (String ext : List.of(".yaml", ".yml")) {
            Path f = dir.resolve(nameOrPath + ext);
            if (Files.isRegularFile(f)) return f;
        }
        List<String> names = Files.isDirectory(dir) ? list(dir).stream().map(f -> f.getFileName().toString().replaceFirst("\\.ya?ml$", "")).toList()
                : List.of();
        throw new ConfigException("no finding '" + nameOrPath + "' in " + dir.toAbsolutePath() + " (findings: " + names + ")");
    }

    /** The runs: variant → seed → run directory, in the ablation's order. */
    public Map<String, Map<Long, Path>> runs() {
        Map<String, Map<Long, Path>> out = new LinkedHashMap<>();
        for (Ablation.Combo c : ablation.combos()) out.computeIfAbsent(c.variant(), k -> new LinkedHashMap<>()).put(c.seed(), c.runDir());
        return out;
    }

    /** The stage a quantity without {@code stage} reads: the ablation's train stage. */
    public String trainStage() {
        return ablation.trainStage(ablation.stagesOf(ablation.combos().get(0)));
    }

    /**
     * Runs every variant × seed not finished yet, printing progress and the remaining-time estimate,
     * then evaluates the rule and writes finding.json / finding.html.
     */
    public FindingReport.Written run(Ablation.RunExecutor executor, PrintStream out) throws Exception {
        ablation.validate();
        List<Ablation.Combo> combos = ablation.combos();
        int pending = 0;
        for (Ablation.Combo c : combos) if (!ablation.isFinished(c)) pending++;
        out.printf(Locale.ROOT, "finding %s: %d runs (%d variants × %d seeds), %d to run, in %s%n", name, combos.size(),
                runs().size(), ablation.spec().seeds().size(), pending, root());
        ablation.borrowFrom(nearbyRuns(root()));
        long t0 = System.nanoTime();
        Progress progress = new Progress(name, pending, out);
        ablation.run((c, base) -> {
            progress.starting(c);
            executor.run(c, base);
            progress.finished();
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        RuleEvaluator.Verdict v = new RuleEvaluator(name, trainStage(), runs()).evaluate(rule);
        return FindingReport.write(this, v, seconds);
    }

    /**
     * The run directories of the findings beside this one, and of this one ({@code <parent>/<finding>/<variant>/seed-<s>}):
     * a finding over the same base model borrows its pretraining from them instead of repeating it, and a
     * run of this finding started by another invocation (e.g. one variant run on its own) lends like its
     * own earlier runs. Only completed stages are ever borrowed.
     */
    static List<Path> nearbyRuns(Path root) throws IOException {
        Path parent = root.toAbsolutePath().getParent();
        List<Path> out = new ArrayList<>();
        if (parent == null || !Files.isDirectory(parent)) return out;
        try (Stream<Path> findings = Files.list(parent)) {
            for (Path f : findings.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> variants = Files.list(f)) {
                    for (Path v : variants.filter(Files::isDirectory).sorted().toList()) {
                        try (Stream<Path> seeds = Files.list(v)) {
                            seeds.filter(p -> p.getFileName().toString().startsWith("seed-") && Files.exists(p.resolve("config.yaml")))
                                    .sorted().forEach(out::add);
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Progress over the runs of a finding: before each run, its index, the time so far and the
     * estimate of what remains (the mean time of the runs after the first, which also pays for the
     * shared stages such as pretraining; the first run's time while it is the only one measured).
     */
    static final class Progress {
        private final String name;
        private final int total;
        private final PrintStream out;
        private final long start = System.nanoTime();
        private final List<Double> durations = new ArrayList<>();
        private long runStart;

        Progress(String name, int total, PrintStream out) {
            this.name = name;
            this.total = total;
            this.out = out;
        }

        synchronized void starting(Ablation.Combo c) {
            runStart = System.nanoTime();
            int i = durations.size() + 1;
            double elapsed = (runStart - start) / 1e9;
            String eta = durations.isEmpty() ? "unknown until the first run finishes"
                    : "~" + minutes(estimateRemaining(durations, total - durations.size()));
            out.printf(Locale.ROOT, "[finding %s] run %d/%d: %s seed %d (elapsed %s, remaining %s)%n", name, i, total, c.variant(),
                    c.seed(), minutes(elapsed), eta);
        }

        synchronized void finished() {
            durations.add((System.nanoTime() - runStart) / 1e9);
            if (durations.size() == total) {
                out.printf(Locale.ROOT, "[finding %s] all %d runs done in %s%n", name, total, minutes((System.nanoTime() - start) / 1e9));
            }
        }

        /** Seconds left for {@code left} runs given the measured durations (first run excluded once others exist). */
        static double estimateRemaining(List<Double> durations, int left) {
            List<Double> typical = durations.size() > 1 ? durations.subList(1, durations.size()) : durations;
            return left * typical.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        }

        static String minutes(double seconds) {
            long s = Math.round(seconds);
            return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
    }
}

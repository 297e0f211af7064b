package io.r1kit.pipeline.ablate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.run.Pipeline;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs an ablation: every variant × seed as an ordinary run of the base config with overrides, in
 * {@code <root>/<variant>/seed-<s>/}, then the summary ({@link AblationReport}).
 *
 * <p>Stages that are identical in two runs are run once: before a run starts, the completed run
 * sharing the longest identical prefix (the same data, model, tokenizer, rewards and the same first
 * stages, compared on the resolved configs) lends it those stages: their completion markers, eval
 * files and metrics lines are copied and the next stage starts from the lender's checkpoint. So a
 * loss-type ablation pretrains its base model once, not once per variant. Rerunning an ablation
 * skips finished runs and resumes an interrupted one, like {@code r1kit run}.
 */
public final class Ablation {
    private static final Logger LOG = LoggerFactory.getLogger(Ablation.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One run of the ablation. */
    public record Combo(String variant, long seed, List<String> overrides, Path runDir) {}

    /** How a single run is executed (in this JVM with a log file, or as a separate process). */
    public interface RunExecutor {
        void run(Combo combo, Path baseConfig) throws Exception;
    }

    private final StrictYaml.Loaded<AblationSpec> loaded;
    private final AblationSpec spec;
    private final Path baseConfig;
    private final Path root;
    private final String name;
    private List<Path> externalLenders = List.of();

    public Ablation(Path file, List<String> overrides, Path rootOverride) {
        this(file, StrictYaml.load(file, AblationSpec.class, overrides), rootOverride);
    }

    /** An ablation whose spec the caller bound (a findings file is an ablation file with keys of its own). */
    public Ablation(Path file, StrictYaml.Loaded<AblationSpec> loaded, Path rootOverride) {
        this.loaded = loaded;
        this.spec = loaded.value();
        Path dir = file.toAbsolutePath().getParent();
        this.baseConfig = dir.resolve(spec.base()).normalize();
        if (!Files.isRegularFile(baseConfig)) {
            throw new ConfigException(loaded.locate("/base") + ": base config " + baseConfig + " does not exist");
        }
        String fileName = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
        this.name = spec.name() != null ? spec.name() : fileName;
        this.root = rootOverride != null ? rootOverride.toAbsolutePath()
                : spec.runDir() != null ? Path.of(spec.runDir()).toAbsolutePath() : Path.of("runs", "ablations", name).toAbsolutePath();
    }

    /**
     * Runs outside this ablation that may lend their completed shared stages too (e.g. another
     * finding's runs over the same base model, so that it is pretrained once for all of them).
     */
    public void borrowFrom(List<Path> runDirs) {
        this.externalLenders = List.copyOf(runDirs);
    }

    public AblationSpec spec() { return spec; }
    public Path root() { return root; }
    public String name() { return name; }
    public Path baseConfig() { return baseConfig; }

    /** Every variant × seed, variants in file order (grid in row-major order), seeds inner. */
    public List<Combo> combos() {
        List<Map.Entry<String, List<String>>> variants = new ArrayList<>();
        List<Map.Entry<String, List<String>>> named = new ArrayList<>();
        if (spec.variants().isEmpty()) named.add(Map.entry("", List.of()));
        for (AblationSpec.Variant v : spec.variants()) named.add(Map.entry(v.name(), v.set()));
        List<Map.Entry<String, List<String>>> gridRows = new ArrayList<>();
        gridRows.add(Map.entry("", List.of()));
        for (Map.Entry<String, List<JsonNode>> axis : spec.grid().entrySet()) {
            List<Map.Entry<String, List<String>>> next = new ArrayList<>();
            String shortKey = axis.getKey().substring(axis.getKey().lastIndexOf('.') + 1);
            for (Map.Entry<String, List<String>> row : gridRows) {
                for (JsonNode value : axis.getValue()) {
                    String text = value.isTextual() ? value.asText() : value.toString();
                    List<String> sets = new ArrayList<>(row.getValue());
                    sets.add(axis.getKey() + "=" + text);
                    String label = (row.getKey().isEmpty() ? "" : row.getKey() + ",") + shortKey + "=" + text;
                    next.add(Map.entry(label, sets));
                }
            }
            gridRows = next;
        }
        for (Map.Entry<String, List<String>> n : named) {
            for (Map.Entry<String, List<String>> g : gridRows) {
                String label = n.getKey().isEmpty() ? g.getKey() : g.getKey().isEmpty() ? n.getKey() : n.getKey() + "," + g.getKey();
                List<String> sets = new ArrayList<>(n.getValue());
                sets.addAll(g.getValue());
                variants.add(Map.entry(label, sets));
            }
        }
        List<Combo> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> v : variants) {
            String dirName = v.getKey().replaceAll("[^A-Za-z0-9.,_=+-]", "_");
            for (long seed : spec.seeds()) {
                List<String> o = new ArrayList<>(spec.set());
                o.addAll(v.getValue());
                for (String k : spec.seedKeys()) o.add(k + "=" + seed);
                out.add(new Combo(v.getKey(), seed, List.copyOf(o), root.resolve(dirName).resolve("seed-" + seed)));
            }
        }
        return out;
    }

    /** Validates every combination (no work is done): a bad override names itself before anything runs. */
    public void validate() {
        for (Combo c : combos()) {
            try {
                Pipeline.prepare(baseConfig, c.overrides(), c.runDir());
            } catch (ConfigException e) {
                throw new ConfigException("variant '" + c.variant() + "' seed " + c.seed() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Runs every combination not finished yet (the first one alone, so that the others can borrow
     * its shared stages, then up to {@code parallel} at a time), then writes the summary.
     */
    public AblationReport.Summary run(RunExecutor executor) throws Exception {
        validate();
        Files.createDirectories(root);
        RunDirectory.writeAtomically(root.resolve("ablation.yaml"), StrictYaml.YAML.writeValueAsString(loaded.resolved()));
        List<Combo> combos = combos();
        List<Combo> finished = new ArrayList<>();
        if (!combos.isEmpty()) {
            runOne(combos.get(0), finished, executor);
            finished.add(combos.get(0));
        }
        List<Combo> rest = combos.subList(Math.min(1, combos.size()), combos.size());
        if (spec.parallel() <= 1) {
            for (Combo c : rest) {
                runOne(c, finished, executor);
                finished.add(c);
            }
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(spec.parallel());
            try {
                List<Future<?>> fs = new ArrayList<>();
                List<Combo> lenders = List.copyOf(finished);
                for (Combo c : rest) fs.add(pool.submit(() -> { runOne(c, lenders, executor); return null; }));
                for (Future<?> f : fs) f.get();
            } finally {
                pool.shutdownNow();
            }
        }
        return AblationReport.write(this, combos);
    }

    private void runOne(Combo c, List<Combo> lenders, RunExecutor executor) throws Exception {
        Pipeline p = Pipeline.prepare(baseConfig, c.overrides(), c.runDir());
        if (isFinished(p, c.runDir())) {
            LOG.info("ablation {}: {} seed {} already finished", name, c.variant(), c.seed());
            return;
        }
        List<Path> from = new ArrayList<>(lenders.stream().map(Combo::runDir).toList());
        Path self = c.runDir().toAbsolutePath().normalize();
        externalLenders.stream().filter(l -> !l.toAbsolutePath().normalize().equals(self)).forEach(from::add);
        int borrowed = borrowSharedStages(p, c.runDir(), from);
        LOG.info("ablation {}: running {} seed {} in {}{}", name, c.variant(), c.seed(), c.runDir(),
                borrowed > 0 ? " (first " + borrowed + " stage(s) shared with an earlier run)" : "");
        executor.run(c, baseConfig);
    }

    /** Whether every stage of a combination's run has its completion marker (a rerun skips it). */
    public boolean isFinished(Combo c) {
        return isFinished(Pipeline.prepare(baseConfig, c.overrides(), c.runDir()), c.runDir());
    }

    private static boolean isFinished(Pipeline p, Path runDir) {
        RunDirectory dir = new RunDirectory(runDir);
        return p.stages().stream().allMatch(s -> dir.completed(s.name()).isPresent());
    }

    /**
     * Copies into {@code runDir} the completed stages it shares with the best lender (longest
     * identical prefix of the resolved config). Returns the number of stages borrowed.
     */
    static int borrowSharedStages(Pipeline target, Path runDir, List<Path> lenders) throws IOException {
        RunDirectory dir = new RunDirectory(runDir);
        JsonNode mine = target.context().loaded().resolved();
        List<StageSpec> stages = target.stages();
        Path best = null;
        int bestLen = 0;
        for (Path lender : lenders) {
            Path cfg = lender.resolve("config.yaml");
            if (!Files.exists(cfg)) continue;
            JsonNode theirs = StrictYaml.YAML.readTree(cfg.toFile());
            int n = sharedPrefix(mine, theirs, new RunDirectory(lender), stages);
            if (n > bestLen) {
                bestLen = n;
                best = lender;
            }
        }
        if (best == null) return 0;
        RunDirectory from = new RunDirectory(best);
        int borrowed = 0;
        for (int i = 0; i < bestLen; i++) {
            String stage = stages.get(i).name();
            if (dir.completed(stage).isPresent()) continue;
            ObjectNode marker = (ObjectNode) from.completed(stage).orElseThrow();
            marker.put("borrowed_from", best.toString());
            copyIfPresent(from.evalFile(stage), dir.evalFile(stage));
            appendMetricsOf(stage, from.metricsFile(), dir.metricsFile());
            dir.markCompleted(stage, JSON.convertValue(marker, Map.class));
            borrowed++;
        }
        for (String sub : List.of("data", "tokenizer")) copyTreeIfAbsent(best.resolve(sub), runDir.resolve(sub));
        return borrowed;
    }

    /** Number of leading stages identical in both configs and completed in the lender (0 when the globals differ). */
    static int sharedPrefix(JsonNode mine, JsonNode theirs, RunDirectory lender, List<StageSpec> stages) {
        if (!globals(mine).equals(globals(theirs))) return 0;
        JsonNode a = mine.path("stages"), b = theirs.path("stages");
        int n = 0;
        while (n < a.size() && n < b.size() && a.get(n).equals(b.get(n)) && n < stages.size()
                && lender.completed(stages.get(n).name()).isPresent()) {
            n++;
        }
        return n;
    }

    private static JsonNode globals(JsonNode config) {
        ObjectNode g = config.deepCopy();
        g.remove(List.of("name", "run_dir", "stages"));
        return g;
    }

    private static void copyIfPresent(Path from, Path to) throws IOException {
        if (!Files.exists(from)) return;
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void appendMetricsOf(String stage, Path from, Path to) throws IOException {
        if (!Files.exists(from)) return;
        StringBuilder sb = new StringBuilder();
        for (String line : Files.readAllLines(from)) {
            if (line.isBlank()) continue;
            try {
                if (stage.equals(JSON.readTree(line).path("stage").asText(null))) sb.append(line).append('\n');
            } catch (IOException torn) {
                // a torn line of an interrupted lender is not copied
            }
        }
        Files.createDirectories(to.getParent());
        Files.writeString(to, sb.toString(), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    }

    private static void copyTreeIfAbsent(Path from, Path to) {
        if (!Files.isDirectory(from) || Files.exists(to)) return;
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else if (!p.getFileName().toString().startsWith(".")) Files.copy(p, target);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
        }
    }

    /** The eval stage compared across variants (the spec's, else the last eval stage, else the last with eval_data). */
    public String evalStage(List<StageSpec> stages) {
        if (spec.evalStage() != null) return spec.evalStage();
        Optional<StageSpec> eval = stages.stream().filter(s -> s.type() == StageSpec.Type.EVAL).reduce((a, b) -> b);
        if (eval.isPresent()) return eval.get().name();
        return stages.stream().filter(s -> s.evalData() != null).reduce((a, b) -> b).map(StageSpec::name)
                .orElseThrow(() -> new ConfigException(loaded.locate("") + ": the base config has no eval stage; set 'eval_stage'"));
    }

    /** The stage whose curves are compared (the spec's, else the last grpo or ppo stage). */
    public String trainStage(List<StageSpec> stages) {
        if (spec.trainStage() != null) return spec.trainStage();
        return stages.stream().filter(s -> s.type() == StageSpec.Type.GRPO || s.type() == StageSpec.Type.PPO).reduce((a, b) -> b)
                .map(StageSpec::name)
                .orElseThrow(() -> new ConfigException(loaded.locate("") + ": the base config has no grpo or ppo stage; set 'train_stage'"));
    }

    /** Stages of a combination's config (for names and types). */
    public List<StageSpec> stagesOf(Combo c) {
        return Pipeline.prepare(baseConfig, c.overrides(), c.runDir()).stages();
    }

    static Map<String, Object> orderedMap() {
        return new LinkedHashMap<>();
    }
}

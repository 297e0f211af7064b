package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.cluster.Cluster;
import io.r1kit.pipeline.cluster.ClusterDataSets;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardConfig;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardRegistry;
import io.r1kit.rewards.RewardSpec;
import io.r1kit.rewards.SourceRoutedReward;
import io.r1kit.rewards.Completion;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What every stage of a run shares: the config, the run directory, data sets, tokenizer, rewards. */
public final class RunContext {
    private static final Logger LOG = LoggerFactory.getLogger(RunContext.class);

    private final StrictYaml.Loaded<RunConfig> cfg;
    private final Path configDir;
    private final RunDirectory dir;
    private final DataSets data;
    private final RunDevice device;
    private final Cluster cluster;

    /** A context on the host ({@link RunDevice#HOST}): what validation needs; {@link #on} gives the run's. */
    public RunContext(StrictYaml.Loaded<RunConfig> cfg, Path configDir, RunDirectory dir) {
        this.cfg = cfg;
        this.configDir = configDir;
        this.dir = dir;
        this.data = new DataSets(cfg.value().data(), dir.dataDir(), configDir, cfg.value().seed(), cfg);
        this.device = RunDevice.HOST;
        this.cluster = new Cluster(cfg.value().cluster());
        if (cluster.enabled()) data.generatedSetWriter(new ClusterDataSets(cluster));
    }

    private RunContext(RunContext base, RunDevice device) {
        this.cfg = base.cfg;
        this.configDir = base.configDir;
        this.dir = base.dir;
        this.data = base.data;
        this.device = device;
        this.cluster = base.cluster;
    }

    /** This context (same config, run directory and data sets) with the run's device. */
    public RunContext on(RunDevice device) {
        return new RunContext(this, device);
    }

    public RunConfig config() { return cfg.value(); }

    /** Where the stages compute and keep their models. */
    public RunDevice device() { return device; }

    /**
     * {@code m} moved to the run's device when there is one (one upload per parameter), in the run's
     * {@code precision}, else {@code m} (in precision fp8 / fp8_tensor when the run says so).
     */
    public CausalLM onModelDevice(CausalLM m) {
        return device.place(m);
    }
    public StrictYaml.Loaded<RunConfig> loaded() { return cfg; }
    public RunDirectory dir() { return dir; }
    public DataSets data() { return data; }
    public Path configDir() { return configDir; }

    /** The run's {@code cluster:} (not started until a stage asks for its engine). */
    public Cluster cluster() { return cluster; }

    /** Resolves a path written in the config (relative to the config file's folder). */
    public Path resolve(String path) {
        Path p = Path.of(path);
        return p.isAbsolute() ? p : configDir.resolve(p).normalize();
    }

    /** The prompt template of a stage (the stage's override, else the run's). */
    public PromptTemplate template(StageSpec s) {
        String t = s.template() != null ? s.template() : config().template();
        boolean prefill = s.thinkPrefill() != null ? s.thinkPrefill() : config().thinkPrefill();
        try {
            return PromptTemplates.of(t, null, prefill);
        } catch (RuntimeException e) {
            throw new ConfigException(cfg.locate(s.pointer() + "/template") + ": " + e.getMessage(), e);
        }
    }

    /**
     * The reward functions of a stage (its own list, else the run's). Besides the rewards module's
     * entry keys, an entry may have
     * <ul>
     *   <li>{@code sources: [general]} (or one string): the reward applies only to examples whose
     *       {@code source} column (set by a {@code mix:} data set) is one of these; the others get
     *       null, which the weighted sum leaves out (all-scenario RL: rule rewards for reasoning
     *       prompts, the reward model for general ones);</li>
     *   <li>for {@code name: reward_model}, {@code params: {from_stage: RM_STAGE}} instead of
     *       {@code path}: the final model of an earlier {@code reward_model} stage
     *       ({@code checkpoints/<stage>/final}). Before that stage has run (e.g. during
     *       {@code validate}) the entry is checked but not loaded; scoring with it then fails.</li>
     * </ul>
     */
    public CompositeReward rewards(StageSpec s) {
        List<JsonNode> list = s.rewards() != null ? s.rewards() : config().rewards();
        String where = s.rewards() != null ? cfg.locate(s.pointer() + "/rewards") : cfg.locate("/rewards");
        if (list.isEmpty()) throw new ConfigException(where + ": stage '" + s.name() + "' needs rewards (none configured)");
        List<Object> entries = new ArrayList<>();
        List<Set<String>> sources = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            Object raw = StrictYaml.YAML.convertValue(list.get(i), Object.class);
            String at = where + ": rewards[" + i + "]";
            if (!(raw instanceof Map<?, ?> rm)) {
                entries.add(raw);   // the rewards module names the problem
                sources.add(null);
                pending.add(null);
                continue;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> e = new LinkedHashMap<>((Map<String, Object>) rm);
            sources.add(sourcesOf(e.remove("sources"), at));
            String wait = null;
            if (RewardRegistry.REWARD_MODEL.equals(e.get("name")) && e.get("params") instanceof Map<?, ?> pm && pm.containsKey("from_stage")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> params = new LinkedHashMap<>((Map<String, Object>) pm);
                String stage = String.valueOf(params.remove("from_stage"));
                if (params.containsKey("path")) throw new ConfigException(at + ": params has both 'path' and 'from_stage'; give one");
                checkRewardModelStage(s, stage, at);
                Path rmDir = dir.finalModel(stage);
                params.put("path", rmDir.toString());
                e.put("params", params);
                if (dir.completed(stage).isEmpty() || !Files.isRegularFile(rmDir.resolve("config.json"))) wait = stage;
            }
            pending.add(wait);
            entries.add(e);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("rewards", entries);
        if (!config().plugins().isEmpty()) root.put("plugins", config().plugins());
        if (!config().classpath().isEmpty()) root.put("classpath", config().classpath());
        try {
            RewardConfig rc = RewardConfig.fromTree(root, where, configDir);
            List<Path> dirs = new ArrayList<>(rc.pluginDirs());
            dirs.add(Path.of("plugins").toAbsolutePath());
            RewardRegistry registry = RewardRegistry.withPlugins(dirs, rc.classpath());
            List<CompositeReward.Member> members = new ArrayList<>();
            for (int i = 0; i < rc.rewards().size(); i++) {
                RewardSpec spec = rc.rewards().get(i);
                RewardFunction fn = pending.get(i) != null ? new PendingRewardModel(pending.get(i)) : registry.create(spec);
                if (sources.get(i) != null) fn = new SourceRoutedReward(fn, sources.get(i), SOURCE_COLUMN);
                Duration t = spec.timeoutSeconds() == null ? CompositeReward.DEFAULT_TIMEOUT
                        : Duration.ofMillis((long) (spec.timeoutSeconds() * 1000));
                members.add(new CompositeReward.Member(spec.displayName(), fn, spec.weight(), t));
            }
            return new CompositeReward(members);
        } catch (ConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            // a reward's own check (a duplicate label, a bad parameter): say where the rewards are written
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new ConfigException(msg.startsWith(where) ? msg : where + ": " + msg, e);
        }
    }

    /** The column a {@code mix:} data set writes each example's source into, and reward routing reads. */
    public static final String SOURCE_COLUMN = "source";

    private static Set<String> sourcesOf(Object v, String at) {
        if (v == null) return null;
        Set<String> out = new LinkedHashSet<>();
        if (v instanceof String str) out.add(str);
        else if (v instanceof List<?> l) for (Object o : l) {
            if (!(o instanceof String str)) throw new ConfigException(at + ": 'sources' must be a list of source names, got " + v);
            out.add(str);
        }
        else throw new ConfigException(at + ": 'sources' must be a source name or a list of them, got " + v);
        if (out.isEmpty()) throw new ConfigException(at + ": 'sources' is empty");
        return out;
    }

    /** {@code from_stage} of a reward model: an earlier stage of type reward_model. */
    private void checkRewardModelStage(StageSpec s, String stage, String at) {
        int self = stageIndex(s);
        List<ObjectNode> all = config().stages();
        for (int i = 0; i < all.size(); i++) {
            if (!stage.equals(stageName(all.get(i)))) continue;
            if (!"reward_model".equals(all.get(i).path("type").asText())) {
                throw new ConfigException(at + ": from_stage '" + stage + "' is a '" + all.get(i).path("type").asText()
                        + "' stage; it must be a reward_model stage");
            }
            if (self >= 0 && i >= self) {
                throw new ConfigException(at + ": from_stage '" + stage + "' must come before stage '" + s.name() + "'");
            }
            return;
        }
        throw new ConfigException(at + ": from_stage '" + stage + "' is not a stage of this run");
    }

    private static String stageName(ObjectNode n) {
        return n.hasNonNull("name") ? n.get("name").asText() : n.path("type").asText().toLowerCase(java.util.Locale.ROOT);
    }

    private static int stageIndex(StageSpec s) {
        String p = s.pointer();
        return p.startsWith("/stages/") ? Integer.parseInt(p.substring("/stages/".length())) : -1;
    }

    /**
     * The final model of the latest completed, model-producing stage before {@code s} (what the
     * pipeline hands to {@code s} when it has no {@code model:}), or null if there is none.
     */
    public Path previousModel(StageSpec s) {
        int self = stageIndex(s);
        List<ObjectNode> all = config().stages();
        Path prev = null;
        for (int i = 0; i < (self < 0 ? all.size() : self); i++) {
            var done = dir.completed(stageName(all.get(i)));
            if (done.isPresent() && done.get().hasNonNull("model")) prev = Path.of(done.get().get("model").asText());
        }
        return prev;
    }

    /**
     * A model named by a stage option other than {@code model:} (a {@code source:}, {@code teacher:}
     * or {@code judge_model:}): a path, an earlier stage's final model, or a scratch model
     * initialised into {@code checkpoints/<stage>/init-<key>}. {@code spec == null} → the previous
     * stage's model.
     */
    public Path modelOption(StageSpec s, String key, RunConfig.ModelSpec spec) {
        String at = cfg.locate(s.pointer() + "/" + key);
        if (spec == null) {
            Path p = previousModel(s);
            if (p == null) throw new ConfigException(at + ": stage '" + s.name() + "' has no '" + key + "' and no earlier stage produced a model");
            return p;
        }
        if (spec.path() != null) {
            Path p = resolve(spec.path());
            if (!Files.isRegularFile(p.resolve("config.json"))) {
                throw new ConfigException(at + ": model path " + p + " is not a Hugging Face model directory (no config.json)");
            }
            return p;
        }
        if (spec.fromStage() != null) {
            var done = dir.completed(spec.fromStage());
            if (done.isEmpty() || !done.get().hasNonNull("model")) {
                throw new ConfigException(at + ": stage '" + spec.fromStage() + "' has not produced a model (it must come earlier in 'stages' and finish first)");
            }
            return Path.of(done.get().get("model").asText());
        }
        return initScratch(spec.scratch(), dir.checkpoints(s.name()).resolve("init-" + key));
    }

    /** Checks at validation that a model option's {@code from_stage} names an earlier stage. */
    public void checkModelOption(StageSpec s, String key, RunConfig.ModelSpec spec) {
        if (spec == null || spec.fromStage() == null) return;
        int self = stageIndex(s);
        List<ObjectNode> all = config().stages();
        for (int i = 0; i < (self < 0 ? all.size() : self); i++) {
            if (spec.fromStage().equals(stageName(all.get(i)))) return;
        }
        throw new ConfigException(cfg.locate(s.pointer() + "/" + key) + ": from_stage '" + spec.fromStage() + "' is not an earlier stage");
    }

    /** Stands in for a reward model whose stage has not run yet (validation); scoring with it is an error. */
    private record PendingRewardModel(String stage) implements RewardFunction {
        @Override
        public String name() {
            return RewardRegistry.REWARD_MODEL;
        }

        @Override
        public List<Double> score(List<Completion> batch) {
            throw new IllegalStateException("the reward model of stage '" + stage + "' is not trained yet (that stage must finish first)");
        }
    }

    /** The tokenizer stored with a model directory. */
    public Tokenizer tokenizer(Path modelDir) {
        try {
            return HfTokenizer.load(modelDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer of " + modelDir, e);
        }
    }

    /**
     * The HF directory a stage starts from: its own {@code model:} if given, else the previous
     * model-producing stage's final model, else the run's {@code model:} (a scratch model is
     * initialised once, deterministically, into {@code checkpoints/init}).
     */
    public Path modelFor(StageSpec s, Path previous) {
        RunConfig.ModelSpec m = s.model();
        if (m == null && previous != null) return previous;
        if (m == null) m = config().model();
        if (m == null) throw new ConfigException(cfg.locate(s.pointer()) + ": stage '" + s.name() + "' needs a model and the run has no 'model:'");
        if (m.path() != null) {
            Path p = resolve(m.path());
            if (!Files.isRegularFile(p.resolve("config.json"))) {
                throw new ConfigException(cfg.locate(s.model() != null ? s.pointer() + "/model" : "/model")
                        + ": model path " + p + " is not a Hugging Face model directory (no config.json)");
            }
            return p;
        }
        if (m.fromStage() != null) {
            var done = dir.completed(m.fromStage());
            if (done.isEmpty() || !done.get().hasNonNull("model")) {
                throw new ConfigException(cfg.locate(s.pointer() + "/model") + ": stage '" + m.fromStage()
                        + "' has not produced a model (it must come earlier in 'stages' and finish first)");
            }
            return Path.of(done.get().get("model").asText());
        }
        // a stage's own scratch model (e.g. a distillation student) must not reuse the run's
        return initScratch(m.scratch(), s.model() != null ? dir.checkpoints(s.name()).resolve("init") : dir.checkpoints("init").resolve("final"));
    }

    private Path initScratch(RunConfig.ScratchModel sm, Path init) {
        if (Files.isRegularFile(init.resolve("config.json"))) return init;
        Path tokDir = scratchTokenizer();
        int vocab;
        try (Tokenizer tok = HfTokenizer.load(tokDir)) {
            vocab = tok.vocabSize();
        } catch (Exception e) {
            throw new IllegalStateException("cannot load the run's tokenizer from " + tokDir + ": " + e.getMessage(), e);
        }
        ModelConfig mc = switch (sm.family()) {
            case "qwen2" -> ModelConfig.qwen2(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
            case "qwen3" -> ModelConfig.qwen3(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
            case "deepseek_v3" -> ModelConfig.deepseekV3(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(),
                    DeepseekV3Params.smallDefaults(sm.hiddenSize(), sm.numHeads(), sm.intermediateSize()));
            default -> ModelConfig.llama(vocab, sm.hiddenSize(), sm.intermediateSize(), sm.numLayers(), sm.numHeads(), sm.numKvHeads());
        };
        mc = mc.withTieEmbeddings(sm.tieEmbeddings()).withInitStd(sm.initStd())
                .withRope(sm.ropeTheta(), mc.ropeScaling(), sm.maxPositions());
        CausalLM model = CausalLM.random(mc, config().seed());
        try {
            model.save(init, model.writer().dtype(DType.F32).tokenizerFrom(tokDir));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the initial model to " + init, e);
        }
        LOG.info("initialised a {}-parameter {} model from scratch in {}", String.format("%,d", mc.parameterCount()), sm.family(), init);
        return init;
    }

    /** Builds (once) the run's character tokenizer from its data sets, or resolves a tokenizer path. */
    private Path scratchTokenizer() {
        RunConfig.TokenizerSpec spec = config().tokenizer();
        if (spec == null) {
            throw new ConfigException(cfg.locate("/model") + ": a scratch model needs a 'tokenizer:' (path: DIR, or char: {from_data: [...]})");
        }
        if (spec.path() != null) return resolve(spec.path());
        Path out = dir.tokenizerDir();
        if (Files.isRegularFile(out.resolve("tokenizer.json"))) return out;
        List<String> names = spec.charTokenizer().fromData().isEmpty() ? List.copyOf(data.names()) : spec.charTokenizer().fromData();
        List<String> texts = new ArrayList<>();
        for (String n : names) texts.addAll(data.texts(n));
        texts.add(spec.charTokenizer().extra());
        CharTokenizer tok = CharTokenizer.fromCorpus(texts, CharTokenizer.REASONING_TAGS);
        try {
            Path tmp = out.resolveSibling("tokenizer.tmp");
            Files.createDirectories(tmp);
            tok.save(tmp);
            Files.move(tmp, out, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the character tokenizer to " + out, e);
        }
        LOG.info("built a {}-token character tokenizer from data sets {}", tok.vocabSize(), names);
        return out;
    }
}

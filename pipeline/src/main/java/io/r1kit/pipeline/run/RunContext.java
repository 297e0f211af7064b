package io.r1kit.pipeline.run;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.hf.DType;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    public RunContext(StrictYaml.Loaded<RunConfig> cfg, Path configDir, RunDirectory dir) {
        this.cfg = cfg;
        this.configDir = configDir;
        this.dir = dir;
        this.data = new DataSets(cfg.value().data(), dir.dataDir(), configDir, cfg.value().seed(), cfg);
    }

    public RunConfig config() { return cfg.value(); }
    public StrictYaml.Loaded<RunConfig> loaded() { return cfg; }
    public RunDirectory dir() { return dir; }
    public DataSets data() { return data; }
    public Path configDir() { return configDir; }

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

    /** The reward functions of a stage (its own list, else the run's). */
    public CompositeReward rewards(StageSpec s) {
        List<JsonNode> list = s.rewards() != null ? s.rewards() : config().rewards();
        String where = s.rewards() != null ? cfg.locate(s.pointer() + "/rewards") : cfg.locate("/rewards");
        if (list.isEmpty()) throw new ConfigException(where + ": stage '" + s.name() + "' needs rewards (none configured)");
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("rewards", StrictYaml.YAML.convertValue(list, List.class));
        if (!config().plugins().isEmpty()) root.put("plugins", config().plugins());
        if (!config().classpath().isEmpty()) root.put("classpath", config().classpath());
        try {
            RewardConfig rc = RewardConfig.fromTree(root, where, configDir);
            List<Path> extra = new ArrayList<>();
            extra.add(Path.of("plugins").toAbsolutePath());
            return CompositeReward.fromConfig(rc, extra, List.of());
        } catch (RuntimeException e) {
            throw new ConfigException(e.getMessage(), e);
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
        return initScratch(m.scratch());
    }

    private Path initScratch(RunConfig.ScratchModel sm) {
        Path init = dir.checkpoints("init").resolve("final");
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

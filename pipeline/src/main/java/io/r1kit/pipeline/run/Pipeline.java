package io.r1kit.pipeline.run;

import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.plan.MemoryGate;
import io.r1kit.pipeline.report.ReportWriter;
import io.r1kit.pipeline.run.stages.ColdStartStage;
import io.r1kit.pipeline.run.stages.DistillStage;
import io.r1kit.pipeline.run.stages.EvalStage;
import io.r1kit.pipeline.run.stages.RejectionSamplingStage;
import io.r1kit.pipeline.run.stages.RewardModelStage;
import io.r1kit.pipeline.run.stages.SftStage;
import io.r1kit.pipeline.tensorboard.TensorBoardMirror;
import io.r1kit.pipeline.run.stages.PpoStage;
import io.r1kit.pipeline.run.stages.RoutedGrpoStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a config's stages in order. Each stage's final model feeds the next; a finished stage is
 * marked in {@code stages/<stage>.json} and skipped when the run is started again, and an
 * interrupted stage resumes from its last checkpoint — so rerunning a run, or {@code --resume},
 * continues where it stopped.
 */
public final class Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private static final Map<StageSpec.Type, StageRunner> RUNNERS = new EnumMap<>(StageSpec.Type.class);

    static {
        RUNNERS.put(StageSpec.Type.PRETRAIN, new SftStage(true));
        RUNNERS.put(StageSpec.Type.SFT, new SftStage(false));
        // GrpoStage, plus the R1 eval (mixed sets, language mixing, reward-model score) for R1's later RL stages
        RUNNERS.put(StageSpec.Type.GRPO, new RoutedGrpoStage());
        RUNNERS.put(StageSpec.Type.EVAL, new EvalStage());
        RUNNERS.put(StageSpec.Type.PPO, new PpoStage());
        RUNNERS.put(StageSpec.Type.COLD_START, new ColdStartStage());
        RUNNERS.put(StageSpec.Type.REJECTION_SAMPLING, new RejectionSamplingStage());
        RUNNERS.put(StageSpec.Type.REWARD_MODEL, new RewardModelStage());
        RUNNERS.put(StageSpec.Type.DISTILL, new DistillStage());
    }

    /** The stage types this version runs, in the order of the enum. */
    static String availableTypes() {
        return String.join(", ", java.util.Arrays.stream(StageSpec.Type.values()).filter(RUNNERS::containsKey)
                .map(StageSpec.Type::yamlName).toList());
    }

    /** Whether a stage of this type ({@code type:} as written) hands its final model to the next stage. */
    static boolean producesModel(String type) {
        try {
            StageRunner r = RUNNERS.get(StageSpec.Type.valueOf(type.toUpperCase(java.util.Locale.ROOT)));
            return r != null && r.producesModel();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private final RunContext ctx;
    private final List<StageSpec> stages;

    private Pipeline(RunContext ctx, List<StageSpec> stages) {
        this.ctx = ctx;
        this.stages = stages;
    }

    /** Loads and fully validates a config: nothing is generated, trained or written. */
    public static Pipeline prepare(Path configFile, List<String> overrides, Path runDirOverride) {
        StrictYaml.Loaded<RunConfig> cfg = StrictYaml.load(configFile, RunConfig.class, overrides);
        Path configDir = configFile.toAbsolutePath().getParent();
        Path runDir = runDirOverride != null ? runDirOverride : Path.of(cfg.value().runDir());
        RunContext ctx = new RunContext(cfg, configDir, new RunDirectory(runDir));
        ctx.data().validate();
        ctx.cluster().checkAvailable();
        List<StageSpec> stages = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < cfg.value().stages().size(); i++) {
            StageSpec s = StageSpec.parse(cfg, i);
            if (!names.add(s.name())) {
                throw new ConfigException(cfg.locate(s.pointer()) + ": two stages are named '" + s.name() + "'; names must be unique");
            }
            StageRunner runner = RUNNERS.get(s.type());
            if (runner == null) {
                throw new ConfigException(cfg.locate(s.pointer() + "/type") + ": stage type '" + s.type().yamlName()
                        + "' is not available in this version of r1kit (available: " + availableTypes() + ")");
            }
            for (String d : new String[] {s.data(), s.evalData()}) {
                if (d != null && !ctx.data().names().contains(d)) {
                    throw new ConfigException(cfg.locate(s.pointer()) + ": stage '" + s.name() + "' uses data set '" + d
                            + "', which is not defined under 'data:' (defined: " + ctx.data().names() + ")");
                }
            }
            if (s.model() != null && s.model().fromStage() != null && !names.contains(s.model().fromStage())) {
                throw new ConfigException(cfg.locate(s.pointer() + "/model") + ": from_stage '" + s.model().fromStage()
                        + "' is not an earlier stage");
            }
            runner.validate(ctx, s);
            stages.add(s);
        }
        return new Pipeline(ctx, stages);
    }

    public RunContext context() {
        return ctx;
    }

    public List<StageSpec> stages() {
        return stages;
    }

    /** Runs every stage not yet completed (all of them, or only {@code only} when given), then writes the report. */
    public Path run(String only) throws Exception {
        RunDirectory dir = ctx.dir();
        Files.createDirectories(dir.root());
        saveResolvedConfig();
        // device: auto falls back to the CPU with one line saying why; an explicit cuda that cannot
        // run is an error before any work
        RunDevice device;
        try {
            device = RunDevice.select(ctx.config().device(), ctx.config().precision(), line -> LOG.warn("{}", line));
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new ConfigException(ctx.loaded().locate("/device") + ": " + e.getMessage(), e);
        }
        // on a device every stage keeps its models there (device-resident tensors): training and generation
        RunContext ctx = this.ctx.on(device);
        LOG.info("device: {}", device.describe());
        if (device.resident() == null) MemoryGate.refuseIfTooBig(this);
        if (ctx.config().precision().equals("bf16"))
            LOG.info("precision: bf16 (projections read bf16 weight copies, their inputs saved in bf16; fp32 master weights,"
                    + " optimizer state, norms, softmax and loss)");
        if (ctx.config().precision().startsWith("fp8"))
            LOG.info("precision: {} (projection GEMMs on E4M3 operands, {} scales, fp32 accumulation per 128-wide chunk;"
                    + " fp32 master weights, embedding, lm head, norms and attention)", ctx.config().precision(),
                    ctx.config().precision().equals("fp8") ? "1x128 / 128x128" : "per-tensor");
        try (var host = device.activate(); var cluster = ctx.cluster()) {
            return runStages(ctx, only);
        }
    }

    private Path runStages(RunContext ctx, String only) throws Exception {
        RunDirectory dir = ctx.dir();
        // tensorboard: true: event files follow metrics.jsonl while the stages run (rewritten from it on a rerun)
        TensorBoardMirror tensorboard = ctx.config().tensorboard() ? TensorBoardMirror.follow(dir.root()) : null;
        try {
            Path previous = null;
            for (StageSpec s : stages) {
                StageRunner runner = RUNNERS.get(s.type());
                var done = dir.completed(s.name());
                if (done.isPresent()) {
                    if (runner.producesModel() && done.get().hasNonNull("model")) previous = Path.of(done.get().get("model").asText());
                    LOG.info("stage {} ({}): already completed, skipping", s.name(), s.type().yamlName());
                    continue;
                }
                if (only != null && !only.equals(s.name())) {
                    if (runner.producesModel()) {
                        throw new ConfigException("stage '" + only + "' needs stage '" + s.name() + "' to have run first");
                    }
                    continue;
                }
                Path input = runner.needsModel() ? ctx.modelFor(s, previous) : null;
                LOG.info("stage {} ({}): starting from {}", s.name(), s.type().yamlName(), input);
                long t0 = System.nanoTime();
                Path out = runner.run(ctx, s, input);
                Map<String, Object> marker = new LinkedHashMap<>();
                marker.put("stage", s.name());
                marker.put("type", s.type().yamlName());
                marker.put("input_model", input == null ? null : input.toString());
                marker.put("model", out == null ? null : out.toString());
                marker.put("seconds", (System.nanoTime() - t0) / 1e9);
                marker.put("finished_at", Instant.now().toString());
                dir.markCompleted(s.name(), marker);
                if (out != null) previous = out;
                if (only != null) break;
            }
        } finally {
            if (tensorboard != null) tensorboard.close();
        }
        Path report = ReportWriter.write(dir.root());
        LOG.info("report: {}", report);
        return report;
    }

    /** Writes the fully resolved config into the run directory (what actually ran). */
    private void saveResolvedConfig() {
        try {
            String yaml = StrictYaml.YAML.writeValueAsString(ctx.loaded().resolved());
            Path f = ctx.dir().configFile();
            if (Files.exists(f) && !Files.readString(f).equals(yaml)) {
                LOG.warn("the config differs from the one this run directory was started with ({}); completed stages are kept, "
                        + "the rest run with the new config", f);
            }
            RunDirectory.writeAtomically(f, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the resolved config", e);
        }
    }
}

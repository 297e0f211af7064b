package io.r1kit.pipeline.run.stages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.grpo.rm.RewardModel;
import io.r1kit.grpo.rm.RewardModelConfig;
import io.r1kit.grpo.rm.RewardModelTrainer;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code type: reward_model}: a Bradley–Terry reward model (the starting model's architecture with a
 * value head) trained on a preference data set ({@code prompt}, {@code chosen}, {@code rejected}).
 * Options are {@link RewardModelConfig}'s; {@code template} defaults to the run's, so the model
 * scores prompts rendered exactly as the policy sees them. The reward model lands in
 * {@code checkpoints/<stage>/final} and is used by later stages through a reward entry
 * {@code {name: reward_model, params: {from_stage: <stage>, scope: summary|full}}}. It does not
 * replace the policy: the next stage starts from the model before this one.
 *
 * <p>{@code eval/<stage>.json}: {@code pairwise_accuracy} (held-out, ties count as wrong),
 * {@code eval_loss}, {@code n} (held-out pairs), {@code score_mean}, {@code score_std},
 * {@code train_loss}, {@code steps}.
 */
public final class RewardModelStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RewardModelStage.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    RewardModelConfig config(RunContext ctx, StageSpec s) {
        RewardModelConfig c = ctx.loaded().bindAt(s.pointer(), s.options(), RewardModelConfig.class);
        Map<String, Object> m = c.toMap();
        if (!s.options().has("seed")) m.put("seed", ctx.config().seed());
        // the stage's (or run's) template: score prompts as the policy renders them
        if (!s.options().has("template")) m.put("template", s.template() != null ? s.template() : ctx.config().template());
        try {
            return RewardModelConfig.of(m);
        } catch (RuntimeException e) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/template") + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        config(ctx, s);
        if (s.data() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": reward_model stage '" + s.name()
                    + "' needs 'data' (a preference data set with prompt, chosen, rejected; e.g. {generate: {task: preferences, n: 1000}})");
        }
    }

    @Override
    public boolean producesModel() {
        return false;
    }

    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        RewardModelConfig c = config(ctx, s);
        Dataset train = ctx.data().get(s.data());
        Dataset eval = s.evalData() == null ? null : ctx.data().get(s.evalData());
        Path work = ctx.dir().stageDir(s.name());
        Path fin = ctx.dir().finalModel(s.name());
        // no partial resume for the reward model (it trains in minutes): a rerun starts over
        deleteTree(work);
        deleteTree(fin);
        Files.createDirectories(work);
        RewardModelTrainer.Result r;
        try (Tokenizer tok = ctx.tokenizer(inputModel)) {
            RewardModel rm = RewardModel.fromPolicy(CausalLM.load(inputModel), c.encoding(), c.seed());
            if (ctx.device().resident() != null) rm.moveTo(ctx.device().resident());   // the reward model stays fp32
            r = RewardModelTrainer.builder(rm, tok, c).outputDir(work).log(LOG::info).build().train(train, eval);
        }
        appendMetrics(work.resolve(RewardModelTrainer.METRICS_FILE), ctx.dir().metricsFile(), s.name());
        if (!Files.isRegularFile(r.modelDir().resolve("tokenizer.json"))) {
            throw new IllegalStateException(s.name() + ": the reward model in " + r.modelDir() + " has no tokenizer.json (the starting model "
                    + inputModel + " should have one); the reward_model reward needs it");
        }
        Files.createDirectories(fin.getParent());
        Files.move(r.modelDir(), fin, StandardCopyOption.ATOMIC_MOVE);
        Map<String, Object> out = new LinkedHashMap<>();
        RewardModelTrainer.Evaluation e = r.eval();
        out.put("pairwise_accuracy", e == null || e.pairs() == 0 ? null : e.accuracy());
        out.put("eval_loss", e == null || e.pairs() == 0 ? null : e.loss());
        out.put("n", e == null ? 0 : e.pairs());
        out.put("score_mean", e == null ? null : e.scoreMean());
        out.put("score_std", e == null ? null : e.scoreStd());
        out.put("train_loss", r.trainLoss());
        out.put("steps", r.steps());
        out.put("reward_model", fin.toString());
        ctx.dir().writeJson(ctx.dir().evalFile(s.name()), out);
        LOG.info("{}: reward model in {}: held-out pairwise accuracy {} on {} pairs", s.name(), fin, out.get("pairwise_accuracy"), out.get("n"));
        return null;
    }

    /**
     * Copies the trainer's metrics lines into the run's {@code metrics.jsonl}, each tagged with the
     * stage (replacing lines of an earlier attempt of this stage).
     */
    static void appendMetrics(Path stageMetrics, Path runMetrics, String stage) throws IOException {
        StringBuilder sb = new StringBuilder();
        if (Files.exists(runMetrics)) {
            for (String line : Files.readAllLines(runMetrics)) {
                if (line.isBlank()) continue;
                try {
                    if (stage.equals(JSON.readTree(line).path("stage").asText())) continue;
                } catch (IOException torn) {
                    continue;   // a torn last line of a killed run
                }
                sb.append(line).append('\n');
            }
        }
        if (Files.exists(stageMetrics)) {
            for (String line : Files.readAllLines(stageMetrics)) {
                if (line.isBlank()) continue;
                JsonNode n = JSON.readTree(line);
                if (n instanceof ObjectNode o) {
                    ObjectNode t = JSON.createObjectNode();
                    if (o.has("step")) t.set("step", o.get("step"));
                    t.put("stage", stage);
                    o.fields().forEachRemaining(en -> { if (!en.getKey().equals("step") && !en.getKey().equals("stage")) t.set(en.getKey(), en.getValue()); });
                    n = t;
                }
                sb.append(JSON.writeValueAsString(n)).append('\n');
            }
        }
        RunDirectory.writeAtomically(runMetrics, sb.toString());
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> w = Files.walk(p)) {
            for (Path x : w.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}

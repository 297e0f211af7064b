package io.r1kit.pipeline.run.stages;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.data.Dataset;
import io.r1kit.grpo.GrpoConfig;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.SourceRoutedReward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code type: grpo} for the R1 stages: {@link GrpoStage} as it is, then — when the stage is one of
 * R1's later RL stages, i.e. its eval set is a {@code mix:} (examples with a {@code source}) or its
 * rewards include {@code language_consistency} — the final model is evaluated once more by
 * {@link StageEval} and that result replaces {@code eval/<stage>.json}: accuracy and format rate over
 * the prompts with a checkable answer (a mixed set's general prompts would otherwise count as wrong),
 * {@code language_consistency}, {@code language_mixing_rate}, {@code reward_model_score} on the
 * general prompts and per-source rewards. Plain GRPO runs (quickstart) are untouched.
 */
public final class RoutedGrpoStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(RoutedGrpoStage.class);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final GrpoStage grpo = new GrpoStage();

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        grpo.validate(ctx, s);
    }

    @Override
    public boolean producesModel() {
        return grpo.producesModel();
    }

    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        Path out = grpo.run(ctx, s, inputModel);
        if (s.evalData() == null || out == null) return out;
        Dataset eval = ctx.data().get(s.evalData());
        if (!needsR1Eval(ctx, s, eval)) return out;
        GrpoConfig c = grpo.config(ctx, s);
        // the GRPO stage's own eval settings (eval_num_samples, eval_temperature, top_p)
        StageEval.Options o = new StageEval.Options(c.evalNumSamples(), c.evalTemperature(), c.topP(), c.maxCompletionLength(),
                c.maxPromptLength(), c.evalMaxExamples(), null, c.accuracyReward(), c.formatReward(), c.correctThreshold());
        Map<String, Object> m = StageEval.run(ctx, s, out, eval, o);
        // the training counts GrpoStage wrote (train/flops, model/params) stay
        Path first = ctx.dir().evalFile(s.name());
        if (Files.exists(first)) {
            JSON.readTree(first.toFile()).fields().forEachRemaining(e -> {
                if (e.getKey().startsWith("train/") || e.getKey().startsWith("model/")) m.put(e.getKey(), e.getValue().numberValue());
            });
        }
        ctx.dir().writeJson(ctx.dir().evalFile(s.name()), m);
        LOG.info("eval {}: accuracy {} format_rate {} language_consistency {} language_mixing_rate {} reward_model_score {} (n={})",
                s.name(), m.get("accuracy"), m.get("format_rate"), m.get("language_consistency"), m.get("language_mixing_rate"),
                m.get("reward_model_score"), m.get("n"));
        return out;
    }

    static boolean needsR1Eval(RunContext ctx, StageSpec s, Dataset eval) {
        for (var e : eval) if (e.get(RunContext.SOURCE_COLUMN) != null) return true;
        try (CompositeReward r = ctx.rewards(s)) {
            for (var m : r.members()) {
                RewardFunction f = m.function() instanceof SourceRoutedReward sr ? sr.inner() : m.function();
                if ("language_consistency".equals(f.name())) return true;
            }
        }
        return false;
    }
}

package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Dataset;
import io.r1kit.grpo.GrpoConfig;
import io.r1kit.grpo.GrpoTrainer;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.ContextBudget;
import io.r1kit.pipeline.report.MetricsFile;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.pipeline.config.StrictYaml;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;

/**
 * {@code type: grpo}: R1-Zero style GRPO on a prompt data set with the stage's rewards. Options
 * are {@link GrpoConfig}'s (TRL GRPOConfig names); {@code eval_data} is evaluated every
 * {@code eval_steps} and at the end, and the final evaluation is also written to
 * {@code eval/<stage>.json}.
 */
public final class GrpoStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(GrpoStage.class);

    GrpoConfig config(RunContext ctx, StageSpec s) {
        GrpoConfig c = ctx.loaded().bindAt(s.pointer(), s.options(), GrpoConfig.class);
        if (!s.options().has("seed")) c = GrpoConfig.of(withSeed(ctx, s));
        return c;
    }

    private static Map<String, Object> withSeed(RunContext ctx, StageSpec s) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = new java.util.LinkedHashMap<>(StrictYaml.YAML.convertValue(s.options(), Map.class));
        m.put("seed", ctx.config().seed());
        return m;
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        GrpoConfig c = config(ctx, s);
        if (s.data() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": grpo stage '" + s.name() + "' needs 'data' (a prompt data set name)");
        }
        ctx.rewards(s).close();
        ContextBudget.check(ctx, s, c.maxPromptLength(), c.maxCompletionLength());
        ClusterRollouts.validate(ctx, s);
    }


    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        GrpoConfig c = config(ctx, s);
        Dataset train = ctx.data().get(s.data());
        Dataset eval = s.evalData() == null ? null : ctx.data().get(s.evalData());
        CausalLM policy = ctx.onModelDevice(CausalLM.load(inputModel));
        if (s.lora() != null) policy.attachLora(s.lora().toConfig(), c.seed());   // the starting model frozen, adapters trained
        try (Tokenizer tok = ctx.tokenizer(inputModel); CompositeReward rewards = ctx.rewards(s);
             ProgressDisplay progress = new ProgressDisplay(s.name())) {
            GrpoTrainer.Builder b = GrpoTrainer.builder(c).policy(policy).tokenizer(tok).template(ctx.template(s))
                    .train(train).rewards(rewards).reference(() -> CausalLM.load(inputModel)).listener(progress);
            if (eval != null) b.eval(eval);
            if (ctx.cluster().enabled()) b.rolloutGenerator(ClusterRollouts.factory(ctx, s));
            GrpoTrainer trainer = StageOutputs.grpo(b, ctx, s).build();
            progress.total(trainer.totalSteps());
            GrpoTrainer.Result r = trainer.train();
            if (r.finalEval() != null) {
                Map<String, Object> out = EvalStage.summary(r.finalEval());
                long tokens = MetricsFile.read(ctx.dir().metricsFile()).series(s.name(), "num_tokens").y().stream()
                        .mapToLong(Double::longValue).max().orElse(0);
                out.put("model/params", policy.config().parameterCount());
                out.put("train/tokens", tokens);
                out.put("train/flops", TrainingFlops.grpo(policy.config().parameterCount(), tokens, c));
                ctx.dir().writeJson(ctx.dir().evalFile(s.name()), out);
            }
            LOG.info("{} finished: {} steps, final checkpoint {}", s.name(), r.steps(), r.lastCheckpoint());
            return r.lastCheckpoint();
        }
    }
}

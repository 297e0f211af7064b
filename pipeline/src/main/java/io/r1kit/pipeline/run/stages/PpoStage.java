package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Dataset;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.ppo.PpoConfig;
import io.r1kit.grpo.ppo.PpoTrainer;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.ContextBudget;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.StageRunner;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code type: ppo}: PPO with a learned value model (the baseline GRPO drops), on the same prompts
 * and rewards as a {@code grpo} stage, for the GRPO-vs-PPO comparison. Options are
 * {@link PpoConfig}'s (TRL PPOConfig names); with {@code eval_data} the final policy is evaluated
 * greedily and written to {@code eval/<stage>.json}.
 */
public final class PpoStage implements StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger(PpoStage.class);

    PpoConfig config(RunContext ctx, StageSpec s) {
        PpoConfig c = ctx.loaded().bindAt(s.pointer(), s.options(), PpoConfig.class);
        if (!s.options().has("seed")) {
            Map<String, Object> m = new LinkedHashMap<>(c.toMap());
            m.put("seed", ctx.config().seed());
            c = PpoConfig.of(m);
        }
        return c;
    }

    @Override
    public void validate(RunContext ctx, StageSpec s) {
        PpoConfig c = config(ctx, s);
        ClusterRollouts.validate(ctx, s);
        if (s.data() == null) {
            throw new ConfigException(ctx.loaded().locate(s.pointer()) + ": ppo stage '" + s.name() + "' needs 'data' (a prompt data set name)");
        }
        if (c.valueModel() == PpoConfig.ValueModelKind.SEPARATE) {
            throw new ConfigException(ctx.loaded().locate(s.pointer() + "/value_model") + ": value_model: separate is not available "
                    + "in a pipeline stage yet; use shared (a value head on the policy)");
        }
        ctx.rewards(s).close();
        ContextBudget.check(ctx, s, c.maxPromptLength(), c.maxCompletionLength());
    }


    @Override
    public Path run(RunContext ctx, StageSpec s, Path inputModel) throws Exception {
        PpoConfig c = config(ctx, s);
        Dataset train = ctx.data().get(s.data());
        CausalLM policy = ctx.onModelDevice(CausalLM.load(inputModel));
        if (s.lora() != null) policy.attachLora(s.lora().toConfig(), c.seed());   // the starting model frozen, adapters trained
        try (Tokenizer tok = ctx.tokenizer(inputModel); CompositeReward rewards = ctx.rewards(s);
             ProgressDisplay progress = new ProgressDisplay(s.name())) {
            PpoTrainer.Builder b = PpoTrainer.builder(c).policy(policy).tokenizer(tok).template(ctx.template(s))
                    .train(train).rewards(rewards).listener(progress);
            if (ctx.cluster().enabled()) b.rolloutGenerator(ClusterRollouts.factory(ctx, s));
            PpoTrainer trainer = StageOutputs.ppo(b, ctx, s).build();
            progress.total(trainer.totalSteps());
            PpoTrainer.Result r = trainer.train();
            if (s.evalData() != null) {
                Dataset eval = ctx.data().get(s.evalData());
                try (Rollouts ro = new Rollouts(tok, ctx.template(s), rewards, c.maxPromptLength(), true, null, null, 1.0)) {
                    Evaluator.Result e = Evaluator.run(new Generator(policy, tok), ro, eval,
                            new Evaluator.Options(1, 0.0, 0, 1.0, c.maxCompletionLength(), 0, c.seed()));
                    ctx.dir().writeJson(ctx.dir().evalFile(s.name()), EvalStage.summary(e.metrics()));
                }
            }
            LOG.info("{} finished: {} steps, final checkpoint {}", s.name(), r.steps(), r.lastCheckpoint());
            return r.lastCheckpoint();
        }
    }
}

package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;
import io.r1kit.pipeline.cluster.TaskResources;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDevice;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;

/**
 * What an executor thread keeps across the tasks of one job that samples a shipped model and scores
 * the samples with a stage's rewards (eval chunks, GRPO/PPO rollout slices): the stage's context on
 * the task's device, the model, its tokenizer, the rewards and the {@link Rollouts} that score.
 */
final class ScoringWorker implements AutoCloseable {
    final Rollouts rollouts;
    final Generator generator;
    private final Tokenizer tok;
    private final CompositeReward rewards;
    private final ModelShipment model;
    private final boolean releaseModel;

    /**
     * @param maxPromptLength prompt tokens kept when the worker renders prompts itself
     * @param releaseModel    delete the model's local copy on close (the job's weights are not used again)
     */
    ScoringWorker(RunRecipe recipe, ModelShipment model, int maxPromptLength, String accuracyReward, String formatReward,
                  double correctThreshold, boolean releaseModel) throws Exception {
        RunContext base = recipe.context();
        StageSpec s = recipe.stage(base);
        RunDevice device = RunDevice.select(TaskResources.device(base.config().device()), base.config().precision(), line -> { });
        synchronized (Backends.class) {
            if (Backends.current() != device.hostBackend()) Backends.set(device.hostBackend());
        }
        RunContext ctx = base.on(device);
        this.model = model;
        this.releaseModel = releaseModel;
        var dir = model.localDir();
        this.tok = ctx.tokenizer(dir);
        this.rewards = ctx.rewards(s);
        this.rollouts = new Rollouts(tok, ctx.template(s), rewards, maxPromptLength, true, accuracyReward, formatReward, correctThreshold);
        this.generator = new Generator(ctx.onModelDevice(CausalLM.load(dir)), tok);
    }

    @Override
    public void close() throws Exception {
        try {
            rollouts.close();
            rewards.close();
            tok.close();
        } finally {
            if (releaseModel) model.releaseLocal();
        }
    }
}

package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Example;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.generate.LogprobMode;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.pipeline.cluster.ClusterTask;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

/**
 * The executor's side of a GRPO or PPO rollout step on a cluster: one slice of the step's prompts,
 * sampled from the step's policy weights with the step's sampling parameters and the slice's first
 * prompt index (so every completion draws from the stream it draws from in-process) and scored by the
 * same {@link Rollouts} code with the stage's rewards.
 *
 * @param key            identifies the job's setup and the weights' step; an executor thread keeps one
 *                       loaded worker per key
 * @param recipe         the run and stage, rebuilt on the executor (template, rewards, device)
 * @param accuracyReward the accuracy reward's name (as the driver resolved it)
 * @param formatReward   the format reward's name, or null for the built-in format check
 * @param correctThreshold the accuracy a correct completion reaches
 * @param policy         the policy's weights at this step
 * @param n              completions per prompt
 * @param sampling       the step's sampling parameters
 */
record RolloutChunkTask(String key, RunRecipe recipe, String accuracyReward, String formatReward, double correctThreshold,
                        ModelShipment policy, int n, Sampling sampling)
        implements ClusterTask<RolloutChunkTask.Slice, RolloutChunkTask.Scored> {

    /** {@link SamplingParams} as it travels (every component, so the executor's are equal to the driver's). */
    record Sampling(float temperature, int topK, float topP, float minP, int maxNewTokens, ArrayList<Integer> stopTokenIds,
                    ArrayList<String> stopStrings, boolean ignoreEos, long seed, LogprobMode logprobMode) implements Serializable {
        static Sampling of(SamplingParams p) {
            return new Sampling(p.temperature(), p.topK(), p.topP(), p.minP(), p.maxNewTokens(), new ArrayList<>(p.stopTokenIds()),
                    new ArrayList<>(p.stopStrings()), p.ignoreEos(), p.seed(), p.logprobMode());
        }

        SamplingParams params() {
            return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, new HashSet<>(stopTokenIds), stopStrings, ignoreEos, seed,
                    logprobMode);
        }
    }

    /** A prompt as the driver rendered and tokenised it. */
    record ShippedPrompt(SamplingChunkTask.ShippedExample example, String text, int[] ids) implements Serializable {
        static ShippedPrompt of(Rollouts.Prompt p) {
            return new ShippedPrompt(SamplingChunkTask.ShippedExample.of(p.example()), p.text(), p.ids());
        }

        Rollouts.Prompt prompt() {
            Example e = example.example();
            return new Rollouts.Prompt(e, text, ids);
        }
    }

    /** One task's input: the index of the slice's first prompt in the step's batch, and its prompts. */
    record Slice(int start, ArrayList<ShippedPrompt> prompts) implements Serializable {}

    /** One task's result: the slice's samples (groups relative to the slice) and the JVM that made them. */
    record Scored(int start, List<EvalChunkTask.ScoredSample> samples, long pid, double seconds) implements Serializable {}

    @Override
    public Scored run(Slice slice) throws Exception {
        long t0 = System.nanoTime();
        ScoringWorker w = WORKERS.get(key, () -> new ScoringWorker(recipe, policy, Integer.MAX_VALUE, accuracyReward, formatReward,
                correctThreshold, true));
        List<Rollouts.Prompt> prompts = new ArrayList<>();
        for (ShippedPrompt p : slice.prompts()) prompts.add(p.prompt());
        List<Rollouts.Sample> s = w.rollouts.sampleAndScore(w.generator, prompts, n, sampling.params(), null, slice.start());
        List<EvalChunkTask.ScoredSample> out = new ArrayList<>();
        for (Rollouts.Sample x : s) {
            out.add(new EvalChunkTask.ScoredSample(x.group(), x.tokens(), x.sampleLogprobs(), x.text(), x.finishReason(), x.reward(),
                    x.rewardValues(), x.correct(), x.formatted()));
        }
        return new Scored(slice.start(), out, ProcessHandle.current().pid(), (System.nanoTime() - t0) / 1e9);
    }

    /**
     * One loaded {@link ScoringWorker} per executor thread and step: the next step's key replaces it and
     * deletes its weights' local copy. The prompts arrive rendered and tokenised, so the worker's prompt
     * length is not used.
     */
    private static final ThreadWorkers<ScoringWorker> WORKERS = new ThreadWorkers<>();
}

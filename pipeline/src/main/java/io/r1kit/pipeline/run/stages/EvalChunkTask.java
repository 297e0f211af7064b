package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.generate.FinishReason;
import io.r1kit.pipeline.cluster.ClusterTask;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The executor's side of a distributed evaluation: one chunk of {@link #CHUNK} prompts (the chunk
 * {@link Evaluator#run} generates at once), sampled with the chunk's seed ({@code seed + first prompt index}) and scored by the same
 * {@link Rollouts} code as {@link Evaluator#run}, so every sample is the in-process one.
 *
 * @param key             identifies the job's setup; an executor thread keeps one loaded worker per key
 * @param recipe          the run and stage, rebuilt on the executor (template, rewards, device)
 * @param options         the evaluator's options
 * @param maxPromptLength prompt tokens kept at most
 * @param accuracyReward  label of the accuracy reward (null: the rollouts' default)
 * @param formatReward    label of the format reward (null: the rollouts' default)
 * @param correctThreshold the accuracy a correct sample reaches
 * @param model           the checkpoint evaluated
 */
record EvalChunkTask(String key, RunRecipe recipe, EvalOptions options, int maxPromptLength, String accuracyReward, String formatReward,
                     double correctThreshold, ModelShipment model) implements ClusterTask<EvalChunkTask.Chunk, EvalChunkTask.Scored> {

    /** Prompts per generate call of {@link Evaluator#run}; a chunk's seed and batch depend on it, so it must be the same. */
    static final int CHUNK = 64;

    /** {@link Evaluator.Options} as it travels. */
    record EvalOptions(int numSamples, double temperature, int topK, double topP, int maxCompletionLength, int maxExamples, long seed,
                       ArrayList<String> reflectionWords) implements Serializable {
        static EvalOptions of(Evaluator.Options o) {
            return new EvalOptions(o.numSamples(), o.temperature(), o.topK(), o.topP(), o.maxCompletionLength(), o.maxExamples(), o.seed(),
                    new ArrayList<>(o.reflectionWords()));
        }

        Evaluator.Options options() {
            return new Evaluator.Options(numSamples, temperature, topK, topP, maxCompletionLength, maxExamples, seed, List.copyOf(reflectionWords));
        }
    }

    /** One task's input: the chunk's first prompt index in the eval set and its prompts. */
    record Chunk(int start, List<SamplingChunkTask.ShippedExample> prompts) implements Serializable {}

    /** A {@link Rollouts.Sample} without its prompt (the driver has the prompts), as it travels. */
    record ScoredSample(int group, int[] tokens, float[] sampleLogprobs, String text, FinishReason finishReason, double reward,
                        Double[] rewardValues, boolean correct, boolean formatted) implements Serializable {
        Rollouts.Sample sample(Rollouts.Prompt prompt) {
            return new Rollouts.Sample(group, prompt, tokens, sampleLogprobs, text, finishReason, reward, rewardValues, correct, formatted);
        }
    }

    /** One task's result: the chunk's samples (groups relative to the chunk) and the JVM that made them. */
    record Scored(int start, List<ScoredSample> samples, long pid, double seconds) implements Serializable {}

    @Override
    public Scored run(Chunk chunk) throws Exception {
        long t0 = System.nanoTime();
        ScoringWorker w = WORKERS.get(key, () -> new ScoringWorker(recipe, model, maxPromptLength, accuracyReward, formatReward,
                correctThreshold, false));
        List<Rollouts.Prompt> prompts = new ArrayList<>();
        for (SamplingChunkTask.ShippedExample e : chunk.prompts()) prompts.add(w.rollouts.prompt(e.example()));
        Evaluator.Options o = options.options();
        List<Rollouts.Sample> s = w.rollouts.sampleAndScore(w.generator, prompts, o.numSamples(), o.sampling().withSeed(o.seed() + chunk.start()),
                null);
        List<ScoredSample> out = new ArrayList<>();
        for (Rollouts.Sample x : s) {
            out.add(new ScoredSample(x.group(), x.tokens(), x.sampleLogprobs(), x.text(), x.finishReason(), x.reward(), x.rewardValues(),
                    x.correct(), x.formatted()));
        }
        return new Scored(chunk.start(), out, ProcessHandle.current().pid(), (System.nanoTime() - t0) / 1e9);
    }

    /** One loaded {@link ScoringWorker} per executor thread and job setup. */
    private static final ThreadWorkers<ScoringWorker> WORKERS = new ThreadWorkers<>();

    /** The prompts of an eval set a run evaluates, in order. */
    static List<Example> prompts(Dataset data, Evaluator.Options o) {
        int n = o.maxExamples() > 0 ? Math.min(o.maxExamples(), data.size()) : data.size();
        return data.examples().subList(0, n);
    }
}

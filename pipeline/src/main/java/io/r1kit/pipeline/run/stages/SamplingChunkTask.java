package io.r1kit.pipeline.run.stages;

import io.r1kit.data.Example;
import io.r1kit.grpo.rejection.Candidate;
import io.r1kit.grpo.rejection.Judge;
import io.r1kit.grpo.rejection.Judgement;
import io.r1kit.grpo.rejection.ModelSource;
import io.r1kit.grpo.rejection.RejectionConfig;
import io.r1kit.grpo.rejection.RejectionSampler;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.pipeline.cluster.ClusterTask;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.RunRecipe;
import io.r1kit.pipeline.cluster.TaskResources;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDevice;
import io.r1kit.pipeline.run.StageSpec;
import io.r1kit.rewards.CompositeReward;

import java.io.Serializable;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The executor's side of distributed sampling: one chunk of {@code prompt_batch_size} prompts,
 * sampled by the same {@link ModelSource} the in-process run uses (same chunk start, so the same
 * seeds and the same generation batch) and judged by the same judge. What stays on the driver is
 * what depends on earlier prompts: R1's filters, the rewrite, dedup, the per-prompt cap and the files.
 *
 * @param key             identifies the job's setup; an executor thread keeps one loaded {@link Worker} per key
 * @param recipe          the run and stage, rebuilt on the executor (template, rewards, device)
 * @param sampling        the stage's {@link RejectionConfig} as JSON
 * @param maxPromptLength prompt tokens kept at most
 * @param source          the checkpoint sampled
 * @param judgeModel      the generative judge's checkpoint, or null
 */
record SamplingChunkTask(String key, RunRecipe recipe, String sampling, int maxPromptLength, ModelShipment source,
                         ModelShipment judgeModel) implements ClusterTask<SamplingChunkTask.Chunk, SamplingChunkTask.Samples> {

    /** An example as it travels: its id and columns, with the values' Java types kept. */
    record ShippedExample(String id, LinkedHashMap<String, Object> columns) implements Serializable {
        static ShippedExample of(Example e) {
            return new ShippedExample(e.id(), new LinkedHashMap<>(e.columns()));
        }

        Example example() {
            return new Example(id, columns);
        }
    }

    /** One task's input: the index of the chunk's first prompt in the whole prompt set, and the chunk's prompts. */
    record Chunk(int start, List<ShippedExample> prompts) implements Serializable {}

    /** One candidate with its judgement. */
    record Sample(int sampleIndex, String promptText, String completion, String finishReason, int[] tokenIds, boolean correct,
                  String reason, LinkedHashMap<String, Double> rewards, String verdict) implements Serializable {
        static Sample of(Candidate c, Judgement j) {
            return new Sample(c.sampleIndex(), c.promptText(), c.completion(), c.finishReason(), c.tokenIds(), j.correct(), j.reason(),
                    j.rewards() == null ? null : new LinkedHashMap<>(j.rewards()), j.verdict());
        }

        Candidate candidate() {
            return new Candidate(sampleIndex, promptText, completion, finishReason, tokenIds);
        }

        Judgement judgement() {
            return new Judgement(correct, reason, rewards, verdict);
        }
    }

    /**
     * One task's result.
     *
     * @param start        the chunk's first prompt index
     * @param perPrompt    the samples of each prompt of the chunk, in order
     * @param pid          the process id of the JVM that ran the task
     * @param host         its host name
     * @param seconds      time spent sampling and judging
     * @param setupSeconds time spent loading the models (fetching broadcast files included); 0 when the thread had them
     */
    record Samples(int start, List<List<Sample>> perPrompt, long pid, String host, double seconds, double setupSeconds)
            implements Serializable {}

    @Override
    public Samples run(Chunk chunk) throws Exception {
        long t0 = System.nanoTime();
        Worker w = Worker.forTask(this);
        long t1 = System.nanoTime();
        List<Example> es = new ArrayList<>();
        for (ShippedExample e : chunk.prompts()) es.add(e.example());
        w.source.chunkStart(chunk.start());
        List<List<Candidate>> cands = w.source.sample(es);
        List<List<Sample>> out = new ArrayList<>();
        for (int i = 0; i < es.size(); i++) {
            List<Candidate> cs = cands.get(i);
            List<Judgement> js = cs.isEmpty() ? List.of() : w.judge.judge(es.get(i), cs);
            List<Sample> one = new ArrayList<>();
            for (int k = 0; k < cs.size(); k++) one.add(Sample.of(cs.get(k), js.get(k)));
            out.add(one);
        }
        return new Samples(chunk.start(), out, ProcessHandle.current().pid(), InetAddress.getLocalHost().getHostName(),
                (System.nanoTime() - t1) / 1e9, (t1 - t0) / 1e9);
    }

    /** The sampling options, bound back from the JSON the driver wrote. */
    static RejectionConfig readSampling(String json) throws java.io.IOException {
        return StrictYaml.BINDER.readValue(json, RejectionConfig.class);
    }

    /** The loaded models, tokenizer, rewards and sampler of one job setup, kept by an executor thread across its tasks. */
    static final class Worker implements AutoCloseable {
        private static final ThreadWorkers<Worker> WORKERS = new ThreadWorkers<>();

        final ModelSource source;
        final Judge judge;
        private final List<AutoCloseable> resources = new ArrayList<>();

        private Worker(SamplingChunkTask t) throws Exception {
            RunContext base = t.recipe().context();
            StageSpec s = t.recipe().stage(base);
            RunDevice device = RunDevice.select(TaskResources.device(base.config().device()), base.config().precision(), line -> { });
            // host kernels read the process-wide backend; an executor JVM takes the run's (the driver's JVM already has it)
            synchronized (Backends.class) {
                if (Backends.current() != device.hostBackend()) Backends.set(device.hostBackend());
            }
            RunContext ctx = base.on(device);
            RejectionConfig rc = readSampling(t.sampling());
            CompositeReward rewards = ctx.rewards(s);
            resources.add(rewards);
            Generator judgeGen = null;
            Tokenizer judgeTok = null;
            if (t.judgeModel() != null) {
                var dir = t.judgeModel().localDir();
                judgeTok = ctx.tokenizer(dir);
                resources.add(judgeTok);
                judgeGen = new Generator(ctx.onModelDevice(CausalLM.load(dir)), judgeTok);
            }
            this.judge = RejectionSampler.judgeFor(rc, rewards, judgeGen, judgeTok);
            var dir = t.source().localDir();
            Tokenizer tok = ctx.tokenizer(dir);
            resources.add(tok);
            Rollouts ro = SampleAndTrain.samplingRollouts(ctx, s, tok, rewards, rc, t.maxPromptLength());
            resources.add(ro);
            this.source = new ModelSource(ro, new Generator(ctx.onModelDevice(CausalLM.load(dir)), tok), rc.samplingParams(),
                    rc.samplesPerPrompt());
        }

        static Worker forTask(SamplingChunkTask t) throws Exception {
            return WORKERS.get(t.key(), () -> new Worker(t));
        }

        @Override
        public void close() throws Exception {
            for (int i = resources.size() - 1; i >= 0; i--) resources.get(i).close();
        }
    }

    /** The JSON form of a sampling config, for {@link #readSampling}. */
    static String writeSampling(RejectionConfig rc) {
        try {
            return StrictYaml.BINDER.writeValueAsString(rc);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

package io.r1kit.grpo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.grpo.GrpoLoss.Scale;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.eval.Evaluator;
import io.r1kit.grpo.metrics.ReflectionRate;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.rollout.RolloutGenerator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.rollout.SampleFiles;
import io.r1kit.grpo.rollout.Rollouts.Prompt;
import io.r1kit.grpo.rollout.Rollouts.Sample;
import io.r1kit.grpo.train.NonFiniteStepPolicy;
import io.r1kit.grpo.train.TrainerBuilder;
import io.r1kit.grpo.train.TrainerCheckpoint;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.grpo.train.TrainerListener.Update;
import io.r1kit.grpo.train.TrainingLoop;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.TokenScores;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.device.DeviceBackend;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.LogprobMode;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.hf.DType;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.optim.LrSchedule;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import io.r1kit.rewards.CompositeReward;
import io.r1kit.grpo.metrics.SourceMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * R1-Zero's pure RL: GRPO with rule rewards, no value model. Each step
 * <ol>
 *   <li>takes B prompts ({@code prompts_per_step}) from the epoch-shuffled train set;</li>
 *   <li>samples G completions each ({@code num_generations}) from the current policy, with their
 *       sampling log-probs (re-drawing new prompts for groups whose rewards all agree when
 *       {@code dynamic_sampling} is on, up to {@code max_resample_batches} extra batches);</li>
 *   <li>scores them with the composite rule reward;</li>
 *   <li>turns rewards into group-relative advantages ({@link Advantages});</li>
 *   <li>computes old-policy log-probs when they can differ from the live ones
 *       ({@code num_iterations} &gt; 1 or {@code num_mini_batches} &gt; 1) and reference log-probs when
 *       {@code beta} &gt; 0 (the reference model is loaded only then), with the very micro-batches the
 *       updates use so the first update sees a ratio of exactly 1;</li>
 *   <li>makes {@code num_iterations} passes of {@code num_mini_batches} optimizer updates, each
 *       accumulated over micro-batches, on the loss of {@link GrpoLoss}, with AdamW, global-norm
 *       clipping and the LR schedule;</li>
 *   <li>writes one line to {@code metrics.jsonl}, evaluates, writes samples and checkpoints on schedule.</li>
 * </ol>
 *
 * <p>Run directory: {@code metrics.jsonl}, {@code samples/step-N.jsonl},
 * {@code checkpoints/checkpoint-N/} (see {@link CheckpointStore}), {@code checkpoints/latest}.
 *
 * <p>A step whose loss or gradient is NaN/Inf is not applied (its updates are skipped, and those
 * of its earlier mini-batches or passes undone with {@link StepUndo}: the weights and optimizer
 * state are those of the step's start) and counted; after {@code max_non_finite_steps} such steps in a row the run
 * stops ({@link NonFiniteStepPolicy}), leaving the checkpoints written so far untouched.
 *
 * <pre>
 *   GrpoTrainer t = GrpoTrainer.builder(config).policy(model).tokenizer(tok).template(new R1ZeroTemplate())
 *       .train(trainSet).eval(testSet).rewards(composite).outputDir(runDir).resume(true).build();
 *   GrpoTrainer.Result r = t.train();
 * </pre>
 */
public final class GrpoTrainer {

    private static final Logger LOG = LoggerFactory.getLogger(GrpoTrainer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Loads a model (the frozen reference: normally the initial policy from its directory). */
    @FunctionalInterface
    public interface ModelSource {
        CausalLM load() throws IOException;
    }

    /** What a finished run hands back. */
    public record Result(long steps, Path lastCheckpoint, long nonFiniteSteps, Map<String, Double> finalEval) {}

    // ------------------------------------------------------------------ builder

    public static Builder builder(GrpoConfig config) {
        return new Builder(config);
    }

    public static final class Builder extends TrainerBuilder<Builder> {
        private final GrpoConfig config;
        private CausalLM policy;
        private Tokenizer tokenizer;
        private PromptTemplate template;
        private Dataset train, eval;
        private CompositeReward rewards;
        private ModelSource reference;
        private boolean addSpecialTokens = true;
        private CausalLM sampler;
        private RolloutGenerator.Factory rolloutGenerator = RolloutGenerator.Factory.IN_PROCESS;

        private Builder(GrpoConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        @Override
        protected Builder self() {
            return this;
        }

        /** The model to train (updated in place). */
        public Builder policy(CausalLM m) { this.policy = m; return this; }
        public Builder tokenizer(Tokenizer t) { this.tokenizer = t; return this; }
        /** Renders an example into the text the policy continues. */
        public Builder template(PromptTemplate t) { this.template = t; return this; }
        public Builder train(Dataset d) { this.train = d; return this; }
        /** Held-out set for {@code eval_steps} and the final eval (optional). */
        public Builder eval(Dataset d) { this.eval = d; return this; }
        public Builder rewards(CompositeReward r) { this.rewards = r; return this; }
        /**
         * Where the frozen reference comes from when beta &gt; 0 (e.g. {@code () -> CausalLM.load(modelDir)}).
         * Unset: a copy of the policy's weights taken before any training or checkpoint restore.
         */
        public Builder reference(ModelSource s) { this.reference = s; return this; }
        /** Whether prompts are encoded with the tokenizer's special tokens (BOS); default true. */
        public Builder addSpecialTokens(boolean a) { this.addSpecialTokens = a; return this; }
        /**
         * Tests: rollouts are sampled from this model instead of the policy (a perturbed copy stands
         * in for a rollout engine that differs from the trainer; its weights are not updated).
         */
        Builder sampler(CausalLM m) { this.sampler = m; return this; }
        /** Where each step's rollouts are sampled and scored; default in this JVM ({@link RolloutGenerator#inProcess}). */
        public Builder rolloutGenerator(RolloutGenerator.Factory f) { this.rolloutGenerator = Objects.requireNonNull(f, "rolloutGenerator"); return this; }

        public GrpoTrainer build() {
            require(policy, "grpo", "policy");
            require(tokenizer, "grpo", "tokenizer");
            require(template, "grpo", "template");
            require(train, "grpo", "train");
            require(rewards, "grpo", "rewards");
            require(options().outputs(), "grpo", "outputDir");
            if (train.isEmpty()) throw new IllegalArgumentException("grpo: the train set is empty");
            return new GrpoTrainer(this);
        }
    }

    // ------------------------------------------------------------------ state

    private final GrpoConfig c;
    private final CausalLM policy;
    private final Tokenizer tokenizer;
    private final Dataset train, eval;
    private final Rollouts rollouts;
    private final ModelSource referenceSource;
    private final OutputPaths outputs;
    private final String stage;
    private final boolean resume;
    private final TrainerListener listener;
    private final CausalLM sampler;
    private final RolloutGenerator.Factory rolloutFactory;
    private final GrpoLoss.Settings lossSettings;
    /** The weight of each reward, in the order of the rewards' names (multi_objective_aggregation). */
    private final double[] rewardWeights;
    private final List<Parameter> params;
    private final AdamW opt;
    private final long totalSteps, totalUpdates;
    private final LrSchedule schedule;
    private final TrainerCheckpoint checkpoint;
    private final NonFiniteStepPolicy nonFinite;
    /** Where the policy lives (null: the host); the reference follows it there. */
    private final DeviceBackend device;

    private CausalLM reference;
    private long step, updates, consumed, numTokens;
    private long cachedEpoch = -1;
    private Dataset epochOrder;

    private GrpoTrainer(Builder b) {
        this.c = b.config;
        this.policy = b.policy;
        this.tokenizer = b.tokenizer;
        this.train = b.train;
        this.eval = b.eval;
        this.referenceSource = b.reference;
        TrainerBuilder.RunOptions run = b.options();
        this.outputs = run.outputs();
        this.stage = run.stage();
        this.resume = run.resume();
        this.listener = run.listener();
        this.sampler = b.sampler;
        this.rolloutFactory = b.rolloutGenerator;
        this.rollouts = new Rollouts(b.tokenizer, b.template, b.rewards, c.maxPromptLength(), b.addSpecialTokens,
                c.accuracyReward(), c.formatReward(), c.correctThreshold());
        this.lossSettings = GrpoLoss.Settings.of(c);
        this.rewardWeights = b.rewards.members().stream().mapToDouble(CompositeReward.Member::weight).toArray();
        this.params = policy.trainableParameters();   // with LoRA: the adapters only
        this.device = policy.device();
        AdamW.Config ac = new AdamW.Config(c.learningRate().floatValue(), c.adamBeta1().floatValue(), c.adamBeta2().floatValue(),
                c.adamEpsilon().floatValue(), c.weightDecay().floatValue());
        this.opt = new AdamW(ac, ParamGroup.decayMatricesOnly(params, c.weightDecay().floatValue()));
        long stepsPerEpoch = (train.size() + c.promptsPerStep() - 1) / c.promptsPerStep();
        this.totalSteps = c.maxSteps() > 0 ? c.maxSteps() : stepsPerEpoch * c.numTrainEpochs();
        this.totalUpdates = totalSteps * c.numIterations() * c.numMiniBatches();
        long warmup = (long) Math.ceil(c.warmupRatio() * totalUpdates);
        float lr = c.learningRate().floatValue();
        this.schedule = switch (c.lrScheduler()) {
            case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
            case LINEAR -> LrSchedule.warmupLinear(lr, warmup, totalUpdates, 0f);
            case COSINE -> LrSchedule.warmupCosine(lr, warmup, totalUpdates, 0f);
        };
        this.checkpoint = new TrainerCheckpoint("grpo", outputs, stage, c.saveTotalLimit(), c.seed(), TrainerState.RNG_SCHEME,
                TrainerCheckpoint.withLora(c.toMap(), policy),
                LOG::warn);
        this.nonFinite = new NonFiniteStepPolicy("grpo", c.maxNonFiniteSteps(), "Lower learning_rate or check the rewards.");
    }

    public GrpoConfig config() { return c; }

    /** Steps completed so far. */
    public long step() { return step; }

    /** Steps the run will make in total. */
    public long totalSteps() { return totalSteps; }

    public Path metricsFile() { return outputs.metrics(); }

    // ------------------------------------------------------------------ training loop

    /** Trains to {@code totalSteps()} (continuing from the latest checkpoint when resuming). */
    public Result train() {
        if (c.beta() > 0) reference = loadReference();   // before any restore: the reference is the initial policy
        Optional<TrainerCheckpoint.Restored> restored = checkpoint.open(resume);
        restored.ifPresent(this::restore);
        if (resume) {
            int dropped = checkpoint.dropOutputsAfter(step);
            if (dropped > 0) LOG.info("resume: dropped {} metrics line(s) after step {}", dropped, step);
        }
        Generator generator = new Generator(sampler != null ? sampler : policy, tokenizer);
        Loop loop = new Loop(generator, restored.map(TrainerCheckpoint.Restored::dir).orElse(null));
        try (MetricsLog metrics = new MetricsLog(metricsFile()); RolloutGenerator rg = rolloutFactory.open(rollouts, generator, "grpo")) {
            loop.metrics = metrics;
            loop.rollouts = rg;
            TrainingLoop.run(loop, new TrainingLoop.Schedule(totalSteps, c.evalSteps(), c.saveSteps()), nonFinite,
                    checkpoint::lastGood);
        } finally {
            rollouts.close();
        }
        return new Result(step, loop.lastCheckpoint, nonFinite.total(), loop.finalEval);
    }

    /** GRPO's part of the step loop: the step, the eval when there is an eval set, the checkpoint when the weights are finite. */
    private final class Loop implements TrainingLoop.Steps {
        private final Generator generator;
        private MetricsLog metrics;
        private RolloutGenerator rollouts;
        private Path lastCheckpoint;
        private Map<String, Double> finalEval;

        Loop(Generator generator, Path restored) {
            this.generator = generator;
            this.lastCheckpoint = restored;
        }

        @Override
        public long step() {
            return step;
        }

        @Override
        public void runStep() {
            GrpoTrainer.this.runStep(rollouts, metrics);
        }

        @Override
        public void evaluate(long s) {
            if (eval != null) finalEval = GrpoTrainer.this.evaluate(generator, metrics);
        }

        /** A skipped step leaves the weights as they were, so they may still be saved; NaN/Inf weights never are. */
        @Override
        public void save(long s) {
            if (weightsFinite()) {
                lastCheckpoint = saveCheckpoint();
            } else {
                LOG.error("step {}: the weights hold NaN/Inf; not checkpointing them", s);
            }
        }
    }

    /** Evaluates the current policy on the eval set (no metrics line written). */
    public Evaluator.Result evaluate() {
        if (eval == null) throw new IllegalStateException("grpo: no eval set given");
        try (var merged = policy.mergedAdapters()) {
            return Evaluator.run(new Generator(policy, tokenizer), rollouts, eval, Evaluator.Options.of(c));
        }
    }

    private Map<String, Double> evaluate(Generator generator, MetricsLog metrics) {
        long t0 = System.nanoTime();
        Evaluator.Result r;
        try (var merged = policy.mergedAdapters()) {
            r = Evaluator.run(generator, rollouts, eval, Evaluator.Options.of(c));
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        if (stage != null) line.put("stage", stage);
        r.metrics().forEach((k, v) -> line.put("eval/" + k, v));
        line.put("eval/time", (System.nanoTime() - t0) / 1e9);
        metrics.write(line);
        LOG.info("step {} eval: accuracy {} format_rate {}", step, fmt(r.metrics().get("accuracy")), fmt(r.metrics().get("format_rate")));
        return r.metrics();
    }

    /** One training step; a step whose loss or gradients were not finite has its update skipped. */
    private void runStep(RolloutGenerator generator, MetricsLog metrics) {
        long tStep = System.nanoTime();
        long stepSeed = Seeds.step(c.seed(), step);
        int B = c.promptsPerStep(), G = c.numGenerations();

        // 1-3. rollouts and rewards (dynamic sampling: keep groups whose rewards differ)
        long[] nanos = new long[2];
        List<Sample> all = new ArrayList<>();
        List<List<Sample>> kept = new ArrayList<>();
        int rounds = 0;
        while (true) {
            List<Prompt> prompts = new ArrayList<>();
            for (int i = 0; i < B; i++) prompts.add(rollouts.prompt(nextExample()));
            SamplingParams sp = SamplingParams.sample(c.temperature().floatValue(), c.maxCompletionLength(), Seeds.sub(stepSeed, rounds))
                    .withTopK(c.topK()).withTopP(c.topP().floatValue()).withLogprobMode(LogprobMode.TEMPERATURE);
            List<Sample> got;
            try (var merged = policy.mergedAdapters()) {   // LoRA: decoding reads W + B·A·alpha/r
                got = generator.sampleAndScore(step, prompts, G, sp, nanos);
            }
            int base = all.size() / G;
            for (int g = 0; g < B; g++) {
                List<Sample> group = new ArrayList<>();
                for (int j = 0; j < G; j++) {
                    Sample s = got.get(g * G + j);
                    group.add(new Sample(base + g, s.prompt(), s.tokens(), s.sampleLogprobs(), s.text(), s.finishReason(),
                            s.reward(), s.rewardValues(), s.correct(), s.formatted()));
                }
                all.addAll(group);
                if (!c.dynamicSampling() || !allEqual(group)) kept.add(group);
            }
            rounds++;
            if (!c.dynamicSampling() || kept.size() >= B || rounds > c.maxResampleBatches()) break;
        }
        if (kept.size() > B) kept = new ArrayList<>(kept.subList(0, B));

        // 4. advantages
        List<Sample> batch = new ArrayList<>();
        for (List<Sample> g : kept) batch.addAll(g);
        float[] adv = advantages(batch, null);

        // 5-6. old / reference log-probs and the updates
        long tUpdate = System.nanoTime();
        StepStats st = new StepStats();
        boolean finite = true;
        if (!batch.isEmpty()) finite = update(batch, adv, st);
        else LOG.warn("step {}: dynamic sampling found no group with differing rewards after {} batches; no update", step + 1, rounds);
        long tEnd = System.nanoTime();

        step++;
        nonFinite.record(finite);
        if (!finite) LOG.warn("step {}: NaN/Inf in loss or gradients, update skipped ({} in a row)", step, nonFinite.streak());
        if (!batch.isEmpty()) generator.policyUpdated(step);

        // 7. metrics
        long stepTokens = 0;
        for (Sample s : all) stepTokens += s.prompt().ids().length + s.tokens().length;
        numTokens += stepTokens;
        double stepTime = (tEnd - tStep) / 1e9;
        Map<String, Object> m = stepMetrics(all, G, st, stepTokens, stepTime, nanos, (tEnd - tUpdate) / 1e9);
        m.putAll(generator.stepMetrics());
        if (c.dynamicSampling()) {
            m.put("dynamic_sampling/batches", rounds);
            m.put("dynamic_sampling/kept_groups", kept.size());
        }
        metrics.write(m);
        if (c.logCompletionsSteps() > 0 && step % c.logCompletionsSteps() == 0) writeSamples(all, batch, adv);
        // the KL is only shown when there is one (beta > 0): say nothing where there is nothing to say
        String kl = c.beta() > 0 ? " kl " + fmt(m.get("kl")) : "";
        LOG.info("step {}/{}: reward {} loss {}{} len {} ({} s)", step, totalSteps, fmt(m.get("reward")), fmt(m.get("loss")),
                kl, fmt(m.get("completions/mean_length")), String.format("%.2f", stepTime));
        listener.onStep(step, m);
    }

    /**
     * The advantages of the step's batch: the rewards (or with {@code normalize_then_sum} each
     * reward normalised in its group, then weighted and summed), less β · Σ_t KL when the KL is in
     * the reward, through {@code advantage_estimator}.
     *
     * @param klSums per completion Σ_t kl_t over its trained tokens, or null
     */
    private float[] advantages(List<Sample> batch, double[] klSums) {
        int n = batch.size();
        double[] r = new double[n];
        boolean[] unscorable = new boolean[n];
        int[] lengths = new int[n];
        Double[][] values = new Double[n][];
        for (int i = 0; i < n; i++) {
            Sample s = batch.get(i);
            r[i] = s.reward();
            unscorable[i] = s.unscorable();
            lengths[i] = c.maskTruncatedCompletions() && s.truncated() ? 0 : s.tokens().length;
            values[i] = s.rewardValues();
        }
        if (c.multiObjectiveAggregation() == GrpoConfig.MultiObjectiveAggregation.NORMALIZE_THEN_SUM) {
            r = Advantages.normalizeThenSum(values, rewardWeights, c.numGenerations());
        }
        if (klSums != null) for (int i = 0; i < n; i++) r[i] -= c.beta() * klSums[i];
        return Advantages.estimate(r, unscorable, lengths, c.numGenerations(), c.advantageEstimator(), c.scaleRewards());
    }

    /** Sums over a step's micro-batches, for the metrics. */
    private static final class StepStats {
        double tokens, kl, low, high, region, entropy, entropyTokens;
        double lossSum, normSum;
        int updatesDone;
        float lr = Float.NaN;
        final RolloutMismatch mismatch = new RolloutMismatch();
    }

    /** What a step's updates share: its batch, micro-batches, old / reference log-probs and rollout-correction weights. */
    private record StepInputs(List<Sample> batch, List<List<int[]>> plan, MicroBatches micro, Map<int[], Tensor> old,
                              Map<int[], Tensor> ref, Map<int[], Tensor> weights) {}

    /** Sums over one mini-batch's micro-batches, for its {@link Update}. */
    private static final class MiniBatchSums {
        double lossSum, ratioSum, tok, low, high;
    }

    /** The step's {@code num_iterations} passes of mini-batch updates; false when one was not finite (the step undone). */
    private boolean update(List<Sample> batch, float[] adv, StepStats st) {
        int n = batch.size();
        List<int[]> prompts = new ArrayList<>(n), completions = new ArrayList<>(n);
        boolean[] masked = new boolean[n];
        for (int i = 0; i < n; i++) {
            prompts.add(batch.get(i).prompt().ids());
            completions.add(batch.get(i).tokens());
            masked[i] = c.maskTruncatedCompletions() && batch.get(i).truncated();
        }
        List<List<int[]>> plan = plan(prompts, completions);
        // one Batch, mask and advantage slice per micro-batch for the whole step: on a device the
        // index arrays and the mask cross once, however often scoring and the passes reuse them
        MicroBatches micro = new MicroBatches(device, plan, prompts, completions, masked, adv);
        boolean needOld = c.numIterations() > 1 || plan.size() > 1 || c.klInReward();
        Map<int[], Tensor> old = needOld ? score(policy, plan, micro) : null;
        Map<int[], Tensor> ref = c.beta() > 0 ? referenceScores(plan, micro) : null;
        // the rollout-correction weights are fixed for the step (set on the first pass)
        StepInputs in = new StepInputs(batch, plan, micro, old, ref, new IdentityHashMap<>());
        if (c.klInReward()) penalizeKl(in, adv);

        // several updates: a non-finite one after others were applied undoes the whole step
        StepUndo undo = c.numIterations() * plan.size() > 1 ? StepUndo.take(opt) : null;
        long updatesAtStart = updates;
        for (int pass = 0; pass < c.numIterations(); pass++) {
            for (int mb = 0; mb < plan.size(); mb++) {
                MiniBatchSums sums = new MiniBatchSums();
                boolean bad = !accumulate(in, pass, plan.get(mb), st, sums);
                double norm = Double.NaN;
                if (!bad) {
                    norm = c.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(params, c.maxGradNorm()) : GradClip.globalNorm(params);
                    bad = !Double.isFinite(norm);
                }
                if (bad) {
                    opt.zeroGrad();
                    if (undo != null && updates > updatesAtStart) {
                        undo.restore();
                        updates = updatesAtStart;
                    }
                    listener.onUpdate(new Update(step + 1, pass, mb, sums.lossSum, norm, Double.NaN, Double.NaN, Double.NaN, sums.tok, true));
                    return false;
                }
                float lr = schedule.lr(updates);
                opt.setLr(lr);
                opt.step();
                opt.zeroGrad();
                updates++;
                st.lr = lr;
                st.lossSum += sums.lossSum;
                st.normSum += norm;
                st.updatesDone++;
                double denom = Math.max(1, sums.tok);
                listener.onUpdate(new Update(step + 1, pass, mb, sums.lossSum, norm, sums.ratioSum / denom, sums.low / denom,
                        sums.high / denom, sums.tok, false));
            }
        }
        return true;
    }

    /**
     * {@code kl_in_reward}: the KL of the sampling policy to the reference becomes a reward penalty
     * (PPO-style); the advantages are recomputed in place, before their first read. With
     * reinforce_pp the penalty is per token and so are the advantages ({@link Advantages#reinforcePpTokens});
     * {@code adv} then holds each completion's first-token advantage (its whole return, for the samples).
     * The other estimators take β · Σ_t kl_t off the completion's reward.
     */
    private void penalizeKl(StepInputs in, float[] adv) {
        int n = in.batch().size();
        boolean perToken = c.advantageEstimator() == GrpoConfig.AdvantageEstimator.REINFORCE_PP;
        double[] klSums = new double[n];
        double[][] klTokens = new double[n][];
        for (List<int[]> mini : in.plan()) {
            for (int[] m : mini) {
                float[] o = host(in.old().get(m)), r = host(in.ref().get(m)), mk = in.micro().hostMask(m);
                Batch b = in.micro().batch(m);
                int t = b.T();
                for (int row = 0; row < m.length; row++) {
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        int k = row * t + j;
                        if (mk[k] != 0) sum += GrpoLoss.kl(o[k], r[k], c.klEstimator());
                    }
                    klSums[m[row]] = sum;
                    if (perToken) {
                        int len = in.batch().get(m[row]).tokens().length, start = row * t + b.completionStart(row);
                        double[] kl = new double[len];
                        for (int j = 0; j < len; j++) kl[j] = GrpoLoss.kl(o[start + j], r[start + j], c.klEstimator());
                        klTokens[m[row]] = kl;
                    }
                }
            }
        }
        if (!perToken) {
            System.arraycopy(advantages(in.batch(), klSums), 0, adv, 0, n);
            return;
        }
        double[] rewards = new double[n];
        boolean[] unscorable = new boolean[n], masked = new boolean[n];
        Double[][] values = new Double[n][];
        for (int i = 0; i < n; i++) {
            Sample s = in.batch().get(i);
            rewards[i] = s.reward();
            unscorable[i] = s.unscorable();
            masked[i] = c.maskTruncatedCompletions() && s.truncated();
            values[i] = s.rewardValues();
        }
        if (c.multiObjectiveAggregation() == GrpoConfig.MultiObjectiveAggregation.NORMALIZE_THEN_SUM) {
            rewards = Advantages.normalizeThenSum(values, rewardWeights, c.numGenerations());
        }
        float[][] tokens = Advantages.reinforcePpTokens(rewards, unscorable, masked, klTokens, c.numGenerations(), c.beta());
        for (int i = 0; i < n; i++) adv[i] = tokens[i].length > 0 ? tokens[i][0] : 0f;
        in.micro().useTokenAdvantages(tokens);
    }

    /**
     * Forward and backward of one mini-batch's micro-batches, gradients accumulating; false at the
     * first non-finite loss (its gradient is not added).
     */
    private boolean accumulate(StepInputs in, int pass, List<int[]> micros, StepStats st, MiniBatchSums sums) {
        MicroBatches micro = in.micro();
        int seqs = 0;
        double active = 0;
        for (int[] m : micros) {
            seqs += m.length;
            active += micro.activeTokens(m);
        }
        Scale scale = new Scale(seqs, active, micros.size());
        for (int[] m : micros) {
            Batch b = micro.batch(m);
            boolean withEntropy = pass == 0 || lossSettings.needsEntropy();
            TokenScores s = policy.scoreTokens(b, c.temperature().floatValue(), withEntropy);
            Tensor mask = micro.mask(m);
            if (pass == 0) weighRollouts(in, m, b, s, st);
            GrpoLoss.Result res = GrpoLoss.compute(s.logprobs(), in.old() == null ? null : in.old().get(m),
                    in.ref() == null ? null : in.ref().get(m), micro.advantages(m), mask, micro.activeTokens(m),
                    lossSettings.needsEntropy() ? s.entropy() : null, in.weights().get(m), lossSettings, scale);
            float lv = res.lossValue();
            if (!Float.isFinite(lv)) return false;
            res.loss().backward();
            sums.lossSum += lv;
            sums.ratioSum += res.ratioSum();
            sums.tok += res.activeTokens();
            sums.low += res.lowClipped();
            sums.high += res.highClipped();
            st.tokens += res.activeTokens();
            st.kl += res.klSum();
            st.low += res.lowClipped();
            st.high += res.highClipped();
            st.region += res.regionClipped();
            if (pass == 0) {
                st.entropy += TrainingReductions.maskedSum(s.entropy(), mask, "grpo entropy sum");
                st.entropyTokens += micro.activeTokens(m);
            }
        }
        return true;
    }

    /** Trainer vs sampler on the first pass: the mismatch metrics every step, the correction weights when correcting. */
    private void weighRollouts(StepInputs in, int[] m, Batch b, TokenScores s, StepStats st) {
        float[] o = host(in.old() != null ? in.old().get(m) : s.logprobs().detach());
        List<float[]> sampled = new ArrayList<>(m.length);
        for (int i : m) sampled.add(in.batch().get(i).sampleLogprobs());
        float[] w = st.mismatch.weigh(o, b.completionTensor(sampled).data(), in.micro().hostMask(m), b.B(), b.T(),
                c.rolloutCorrection(), c.rolloutCorrectionLevel(), c.rolloutCorrectionCap());
        if (w != null) {
            Tensor wt = Tensor.wrap(w, b.B(), b.T());
            in.weights().put(m, device == null ? wt : wt.toDevice(device, "grpo rollout-correction weights " + b.B() + "x" + b.T()));
        }
    }

    /**
     * Mini-batches (contiguous, sizes differing by at most one) of micro-batches: with a token budget,
     * greedy runs of sequences whose padded size (rows × longest prompt+completion) fits it; else
     * {@code gradient_accumulation_steps} contiguous pieces.
     */
    private List<List<int[]>> plan(List<int[]> prompts, List<int[]> completions) {
        int n = prompts.size();
        int minis = Math.min(c.numMiniBatches(), n);
        List<List<int[]>> plan = new ArrayList<>();
        for (int mb = 0; mb < minis; mb++) {
            int s = (int) ((long) n * mb / minis), e = (int) ((long) n * (mb + 1) / minis);
            List<int[]> micros = new ArrayList<>();
            if (c.maxTokensPerMicroBatch() > 0) {
                int start = s, longest = 0;
                for (int i = s; i < e; i++) {
                    int len = prompts.get(i).length + completions.get(i).length;
                    int newLongest = Math.max(longest, len);
                    if (i > start && (long) newLongest * (i - start + 1) > c.maxTokensPerMicroBatch()) {
                        micros.add(range(start, i));
                        start = i;
                        newLongest = len;
                    }
                    longest = newLongest;
                }
                micros.add(range(start, e));
            } else {
                int k = Math.min(c.gradientAccumulationSteps(), e - s);
                for (int j = 0; j < k; j++) micros.add(range(s + (e - s) * j / k, s + (e - s) * (j + 1) / k));
            }
            plan.add(micros);
        }
        return plan;
    }

    /** A [rows, T] tensor's values on the host (on a device: one copy, named for the transfer log). */
    private static float[] host(Tensor x) {
        return x.hostValues("grpo log-probs for the rollout mismatch " + x.dim(0) + "x" + x.dim(1));
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        for (int i = 0; i < r.length; i++) r[i] = from + i;
        return r;
    }

    /**
     * Per-token log-probs under {@code model} (no grad) of each micro-batch, batched exactly as the
     * updates will be; they stay where the model lives (on a device: no copy). Zero where the target
     * is negative, i.e. outside the completions, like the mask.
     */
    private Map<int[], Tensor> score(CausalLM model, List<List<int[]>> plan, MicroBatches micro) {
        Map<int[], Tensor> out = new IdentityHashMap<>();
        try (var ng = Grad.noGrad()) {
            for (List<int[]> mini : plan) {
                for (int[] m : mini) out.put(m, model.scoreTokens(micro.batch(m), c.temperature().floatValue(), false).logprobs());
            }
        }
        return out;
    }

    private Map<String, Object> stepMetrics(List<Sample> all, int G, StepStats st, long stepTokens, double stepTime,
                                            long[] nanos, double updateTime) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        if (stage != null) m.put("stage", stage);
        int n = all.size();
        double[] r = new double[n];
        boolean[] unscorable = new boolean[n];
        int nUnscorable = 0;
        for (int i = 0; i < n; i++) {
            r[i] = all.get(i).reward();
            unscorable[i] = all.get(i).unscorable();
            if (unscorable[i]) nUnscorable++;
        }
        // over scorable completions only: an unscorable one has no reward, not reward 0
        m.put("reward", Advantages.mean(r, unscorable, 0, n));
        m.put("reward_std", Advantages.std(r, unscorable, 0, n));
        m.put("rewards/unscorable_frac", (double) nUnscorable / n);
        List<String> names = rollouts.rewardNames();
        for (int f = 0; f < names.size(); f++) {
            double sum = 0, ss = 0;
            int cnt = 0;
            for (Sample s : all) {
                Double v = s.rewardValues()[f];
                if (v != null) {
                    sum += v;
                    ss += v * v;
                    cnt++;
                }
            }
            double mu = cnt == 0 ? Double.NaN : sum / cnt;
            m.put("rewards/" + names.get(f) + "/mean", mu);
            m.put("rewards/" + names.get(f) + "/std", cnt < 2 ? Double.NaN : Math.sqrt(Math.max(0, (ss - cnt * mu * mu) / (cnt - 1))));
        }
        SourceMetrics.put(m, all, names);   // mixed prompt sets: rewards/<source>/…
        boolean[] zero = Advantages.zeroStdGroups(r, unscorable, G);
        int z = 0;
        for (boolean b : zero) if (b) z++;
        m.put("frac_reward_zero_std", (double) z / zero.length);
        double len = 0, lenC = 0, lenW = 0;
        int correct = 0, clipped = 0;
        for (Sample s : all) {
            len += s.tokens().length;
            if (s.correct()) {
                correct++;
                lenC += s.tokens().length;
            } else {
                lenW += s.tokens().length;
            }
            if (s.truncated()) clipped++;
        }
        m.put("completions/mean_length", len / n);
        m.put("completions/mean_length_correct", correct == 0 ? Double.NaN : lenC / correct);
        m.put("completions/mean_length_incorrect", correct == n ? Double.NaN : lenW / (n - correct));
        m.put("completions/clipped_ratio", (double) clipped / n);
        if (!c.reflectionWords().isEmpty()) {
            m.put(ReflectionRate.METRIC, ReflectionRate.of(all.stream().map(Sample::text).toList(), c.reflectionWords()));
        }
        double tok = Math.max(1, st.tokens);
        m.put("kl", c.beta() > 0 ? st.kl / tok : Double.NaN);
        m.put("entropy", st.entropyTokens == 0 ? Double.NaN : st.entropy / st.entropyTokens);
        m.put("clip_ratio/low_mean", st.low / tok);
        m.put("clip_ratio/high_mean", st.high / tok);
        m.put("clip_ratio/region_mean", st.region / tok);
        m.put("loss", st.updatesDone == 0 ? Double.NaN : st.lossSum / st.updatesDone);
        m.put("grad_norm", st.updatesDone == 0 ? Double.NaN : st.normSum / st.updatesDone);
        m.put("learning_rate", Float.isNaN(st.lr) ? (double) schedule.lr(Math.max(0, updates - 1)) : (double) st.lr);
        m.put("num_tokens", numTokens);
        m.put("tokens_per_second", stepTokens / stepTime);
        m.put("time/rollout", nanos[0] / 1e9);
        m.put("time/score", nanos[1] / 1e9);
        m.put("time/update", updateTime);
        m.put("step_time", stepTime);
        m.put("accuracy", (double) correct / n);
        m.put("epoch", (double) consumed / train.size());
        m.put("non_finite_steps", nonFinite.total());
        st.mismatch.putMetrics(m);
        return m;
    }

    private void writeSamples(List<Sample> all, List<Sample> batch, float[] adv) {
        Map<Sample, Float> advOf = new java.util.IdentityHashMap<>();
        for (int i = 0; i < batch.size(); i++) advOf.put(batch.get(i), adv[i]);
        List<String> names = rollouts.rewardNames();
        List<ObjectNode> lines = new ArrayList<>();
        for (Sample s : all) {
            ObjectNode o = JSON.createObjectNode();
            o.put("step", step);
            o.put("group", s.group());
            s.putCommonFields(o, names);
            if (s.unscorable()) o.putNull("reward");
            Float a = advOf.get(s);
            if (a == null) o.putNull("advantage"); else o.put("advantage", a);
            o.put("length", s.tokens().length);
            o.put("finish_reason", s.finishReason().wireName());
            o.put("correct", s.correct());
            lines.add(o);
        }
        SampleFiles.write(outputs.samples(), step, lines);
    }

    // ------------------------------------------------------------------ data, reference, checkpoints

    /** The next prompt: epoch e is the train set shuffled with seed + e; the position is {@code consumed}. */
    private Example nextExample() {
        long epoch = consumed / train.size();
        int i = (int) (consumed % train.size());
        if (epoch != cachedEpoch) {
            epochOrder = train.shuffle(c.seed() + epoch);
            cachedEpoch = epoch;
        }
        consumed++;
        return epochOrder.get(i);
    }

    /** The reference's log-probs; with LoRA the reference is the policy's frozen base (adapters off), no second copy. */
    private Map<int[], Tensor> referenceScores(List<List<int[]>> plan, MicroBatches micro) {
        return policy.lora() != null ? policy.lora().withDisabled(() -> score(policy, plan, micro)) : score(reference, plan, micro);
    }

    private CausalLM loadReference() {
        if (policy.lora() != null) {
            LOG.info("beta = {}: the reference is the policy's frozen base with its LoRA adapters off", c.beta());
            return policy;
        }
        if (referenceSource == null) {
            LOG.info("beta = {}: the reference is a frozen copy of the initial policy", c.beta());
            return onPolicyDevice(policy.copy());
        }
        try {
            CausalLM ref = referenceSource.load();
            if (!ref.config().equals(policy.config())) {
                throw new IllegalArgumentException("grpo: the reference model's config differs from the policy's: " + ref.config()
                        + " vs " + policy.config());
            }
            return onPolicyDevice(ref);
        } catch (IOException e) {
            throw new UncheckedIOException("grpo: cannot load the reference model: " + e.getMessage(), e);
        }
    }

    /**
     * The reference next to the policy (its weights cross once, before the first step), in the
     * policy's precision, so at step 1 the KL compares two identical computations (0), not bf16
     * against fp32 rounding.
     */
    private CausalLM onPolicyDevice(CausalLM ref) {
        if (device == null) return ref;
        return (ref.device() == device ? ref : ref.moveTo(device)).precision(policy.precision());
    }

    private Path saveCheckpoint() {
        AdamW.State os = opt.exportState();
        TrainerState s = checkpoint.state(step, updates, consumed, nonFinite, numTokens, os.scalars(), Map.of());
        Path p = checkpoint.save(dir -> {
            policy.save(dir, DType.F32);
            if (policy.sourceDir() == null && tokenizer instanceof CharTokenizer ct) ct.save(dir);
        }, os.tensors(), s);
        LOG.info("step {}: checkpoint {}", step, p);
        return p;
    }

    /** Continues from a checkpoint whose seed and RNG scheme {@link TrainerCheckpoint} checked. */
    private void restore(TrainerCheckpoint.Restored r) {
        Path ck = r.dir();
        TrainerState s = r.state();
        checkpoint.loadParameters(ck, params);
        opt.importState(new AdamW.State(TrainerCheckpoint.optimizerTensors(ck), s.optimizerScalars()));
        step = s.step();
        updates = s.optimizerUpdates();
        consumed = s.consumedPrompts();
        nonFinite.restore(s.nonFiniteStreak(), s.nonFiniteSteps());
        numTokens = s.numTokens();
        LOG.info("grpo: resumed from {} at step {}", ck, step);
    }

    // ------------------------------------------------------------------ small helpers

    /** A checkpoint is never written with NaN/Inf weights (the last good one stays the latest). */
    private boolean weightsFinite() {
        return TrainingReductions.weightsFinite(params);
    }

    /** Whether the group's scorable rewards all agree (unscorable completions are left out). */
    private static boolean allEqual(List<Sample> group) {
        double[] r = new double[group.size()];
        boolean[] unscorable = new boolean[group.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = group.get(i).reward();
            unscorable[i] = group.get(i).unscorable();
        }
        return Advantages.zeroStdGroups(r, unscorable, r.length)[0];
    }

    private static String fmt(Object v) {
        return v instanceof Number n && Double.isFinite(n.doubleValue()) ? String.format("%.4f", n.doubleValue()) : "-";
    }
}

package io.r1kit.grpo.ppo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.grpo.Seeds;
import io.r1kit.grpo.StepUndo;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.rollout.RolloutGenerator;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.rollout.Rollouts.Prompt;
import io.r1kit.grpo.rollout.Rollouts.Sample;
import io.r1kit.grpo.rollout.SampleFiles;
import io.r1kit.grpo.train.NonFiniteStepPolicy;
import io.r1kit.grpo.train.TrainerBuilder;
import io.r1kit.grpo.train.TrainerCheckpoint;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.grpo.train.TrainingLoop;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.TokenScores;
import io.r1kit.model.autograd.Grad;
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
import io.r1kit.grpo.Advantages;
import io.r1kit.grpo.TrainingReductions;
import io.r1kit.model.backend.device.DeviceBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PPO baseline for the "GRPO vs PPO" ablation: same rollouts and rule rewards as
 * {@link io.r1kit.grpo.GrpoTrainer}, but the advantage comes from a learned value model through
 * GAE(γ, λ) on per-token rewards (TRL's PPOTrainer):
 * <pre>
 *   r_t = −kl_coef · (old_t − ref_t)   for every completion token, plus the rule reward on the last one
 *   A, R = GAE(r, V_old; γ, λ)          (A whitened over the batch's tokens when whiten_advantages)
 *   loss = PPO clipped surrogate(A) + vf_coef · clipped value loss(R)      (see {@link PpoLoss})
 * </pre>
 * Each step: sample, score, compute old log-probs, reference log-probs (kl_coef &gt; 0) and old
 * values with the micro-batches the updates use, then {@code num_ppo_epochs} passes of
 * {@code num_mini_batches} updates of both models (two AdamW, each clipped to {@code max_grad_norm}).
 * Metrics, samples, checkpoints and resume work as in GRPO; the checkpoint also holds the value
 * model ({@code value/…} tensors) and both optimizers in {@code optimizer.safetensors}.
 */
public final class PpoTrainer {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger LOG = LoggerFactory.getLogger(PpoTrainer.class);

    public record Result(long steps, Path lastCheckpoint, long nonFiniteSteps) {}

    public static Builder builder(PpoConfig config) {
        return new Builder(config);
    }

    public static final class Builder extends TrainerBuilder<Builder> {
        private final PpoConfig config;
        private CausalLM policy, valueBackbone;
        private Tokenizer tokenizer;
        private PromptTemplate template;
        private Dataset train;
        private CompositeReward rewards;
        private boolean addSpecialTokens = true;
        private RolloutGenerator.Factory rolloutGenerator = RolloutGenerator.Factory.IN_PROCESS;

        private Builder(PpoConfig c) {
            this.config = Objects.requireNonNull(c);
        }

        @Override
        protected Builder self() {
            return this;
        }

        public Builder policy(CausalLM m) { this.policy = m; return this; }
        /** The value model's backbone when value_model = separate (a smaller model over the same tokenizer). */
        public Builder valueBackbone(CausalLM m) { this.valueBackbone = m; return this; }
        public Builder tokenizer(Tokenizer t) { this.tokenizer = t; return this; }
        public Builder template(PromptTemplate t) { this.template = t; return this; }
        public Builder train(Dataset d) { this.train = d; return this; }
        public Builder rewards(CompositeReward r) { this.rewards = r; return this; }
        public Builder addSpecialTokens(boolean a) { this.addSpecialTokens = a; return this; }
        /** Where each step's rollouts are sampled and scored; default in this JVM ({@link RolloutGenerator#inProcess}). */
        public Builder rolloutGenerator(RolloutGenerator.Factory f) { this.rolloutGenerator = Objects.requireNonNull(f, "rolloutGenerator"); return this; }

        public PpoTrainer build() {
            require(policy, "ppo", "policy");
            require(tokenizer, "ppo", "tokenizer");
            require(template, "ppo", "template");
            require(train, "ppo", "train");
            require(rewards, "ppo", "rewards");
            require(options().outputs(), "ppo", "outputDir");
            if (config.valueModel() == PpoConfig.ValueModelKind.SEPARATE && valueBackbone == null) {
                throw new IllegalStateException("ppo trainer: value_model = separate needs valueBackbone(model)");
            }
            if (valueBackbone != null && valueBackbone.config().vocabSize() != policy.config().vocabSize()) {
                throw new IllegalArgumentException("ppo trainer: the value backbone's vocabulary (" + valueBackbone.config().vocabSize()
                        + ") differs from the policy's (" + policy.config().vocabSize() + ")");
            }
            if (train.isEmpty()) throw new IllegalArgumentException("ppo: the train set is empty");
            return new PpoTrainer(this);
        }
    }

    private final PpoConfig c;
    private final CausalLM policy;
    private final Tokenizer tokenizer;
    private final Dataset train;
    private final Rollouts rollouts;
    private final RolloutGenerator.Factory rolloutFactory;
    private final OutputPaths outputs;
    private final String stage;
    private final boolean resume;
    private final TrainerListener listener;
    private final CausalLM separateBackbone;
    private final TrainerCheckpoint checkpoint;
    private final NonFiniteStepPolicy nonFinite;
    private final long totalSteps;
    private final LrSchedule policySchedule, valueSchedule;

    private ValueModel value;
    private CausalLM reference;
    /** Where the policy lives (null: the host). */
    private DeviceBackend device;
    private AdamW policyOpt, valueOpt;
    private long step, updates, consumed, numTokens;
    private long cachedEpoch = -1;
    private Dataset epochOrder;

    private PpoTrainer(Builder b) {
        this.c = b.config;
        this.policy = b.policy;
        this.tokenizer = b.tokenizer;
        this.train = b.train;
        TrainerBuilder.RunOptions run = b.options();
        this.outputs = run.outputs();
        this.stage = run.stage();
        this.resume = run.resume();
        this.listener = run.listener();
        this.separateBackbone = b.valueBackbone;
        this.rollouts = new Rollouts(b.tokenizer, b.template, b.rewards, c.maxPromptLength(), b.addSpecialTokens, null, null, 1.0);
        this.rolloutFactory = b.rolloutGenerator;
        this.checkpoint = new TrainerCheckpoint("ppo", outputs, stage, c.saveTotalLimit(), c.seed(), TrainerState.RNG_SCHEME,
                TrainerCheckpoint.withLora(c.toMap(), policy),
                LOG::warn);
        this.nonFinite = new NonFiniteStepPolicy("ppo", c.maxNonFiniteSteps(), "Lower learning_rate or check the rewards.");
        long perEpoch = (train.size() + c.promptsPerStep() - 1) / c.promptsPerStep();
        this.totalSteps = c.maxSteps() > 0 ? c.maxSteps() : perEpoch * c.numTrainEpochs();
        long total = totalSteps * c.numPpoEpochs() * c.numMiniBatches();
        this.policySchedule = schedule(c.learningRate().floatValue(), total);
        this.valueSchedule = schedule(c.valueLearningRate().floatValue(), total);
    }

    private LrSchedule schedule(float lr, long total) {
        long warmup = (long) Math.ceil(c.warmupRatio() * total);
        return switch (c.lrScheduler()) {
            case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
            case LINEAR -> LrSchedule.warmupLinear(lr, warmup, total, 0f);
            case COSINE -> LrSchedule.warmupCosine(lr, warmup, total, 0f);
        };
    }

    public long totalSteps() {
        return totalSteps;
    }

    public ValueModel valueModel() {
        return value;
    }

    public Result train() {
        // models that derive from the initial policy are made before any restore
        // on a device (the policy's) the reference and the value model live there too: their weights cross once, here
        device = policy.device();
        // with LoRA the reference is the policy's frozen base (adapters off): no copy
        if (c.klCoef() > 0) reference = policy.lora() != null ? policy
                : device == null ? policy.copy() : policy.copy().moveTo(device).precision(policy.precision());
        value = new ValueModel(separateBackbone != null ? separateBackbone : policy.copy(), Seeds.mix(c.seed()));
        if (device != null) value.moveTo(device);
        float wd = c.weightDecay().floatValue();
        policyOpt = new AdamW(AdamW.Config.defaults(c.learningRate().floatValue()).withWeightDecay(wd),
                ParamGroup.decayMatricesOnly(policy.trainableParameters(), wd));
        valueOpt = new AdamW(AdamW.Config.defaults(c.valueLearningRate().floatValue()).withWeightDecay(wd),
                ParamGroup.decayMatricesOnly(value.parameters(), wd));
        Optional<TrainerCheckpoint.Restored> restored = checkpoint.open(resume);
        restored.ifPresent(this::restore);
        if (resume) checkpoint.dropOutputsAfter(step);
        Generator generator = new Generator(policy, tokenizer);
        Loop loop = new Loop(restored.map(TrainerCheckpoint.Restored::dir).orElse(null));
        try (MetricsLog metrics = new MetricsLog(outputs.metrics()); RolloutGenerator rg = rolloutFactory.open(rollouts, generator, "ppo")) {
            loop.metrics = metrics;
            loop.rollouts = rg;
            TrainingLoop.run(loop, new TrainingLoop.Schedule(totalSteps, 0, c.saveSteps()), nonFinite, checkpoint::lastGood);
        } finally {
            rollouts.close();
        }
        return new Result(step, loop.last, nonFinite.total());
    }

    /** PPO's part of the step loop: the step, and the checkpoint when both models' weights are finite (no eval). */
    private final class Loop implements TrainingLoop.Steps {
        private RolloutGenerator rollouts;
        private MetricsLog metrics;
        private Path last;

        Loop(Path restored) {
            this.last = restored;
        }

        @Override
        public long step() {
            return step;
        }

        @Override
        public void runStep() {
            PpoTrainer.this.runStep(rollouts, metrics);
        }

        /** Skipped steps leave the weights unchanged; NaN/Inf weights are never checkpointed. */
        @Override
        public void save(long s) {
            if (finite(policy.trainableParameters()) && finite(value.parameters())) last = PpoTrainer.this.save();
        }
    }

    /** One step's rollouts, their micro-batches, and the values GAE and the loss read. */
    private static final class StepData {
        List<Sample> batch;
        int n;
        final List<int[]> ps = new ArrayList<>(), cs = new ArrayList<>();
        List<List<int[]>> plan;
        /** One Batch per micro-batch: a device uploads its arrays once. */
        final Map<int[], Batch> batches = new IdentityHashMap<>();
        float[][] old, ref, oldV, adv, ret;
        double klSum, tokens, valSum, retSum;
        /** The loss inputs of each micro-batch: old log-probs, advantages, old values, returns, completion mask. */
        final Map<int[], Tensor[]> inputs = new IdentityHashMap<>();
    }

    /** Sums over a step's updates, for the metrics. */
    private static final class UpdateSums {
        double lossSum, pgSum, vfSum, clipped, vclipped, active, normSum, entropy, entTok;
        int done;
        boolean finite = true;
        float lr = Float.NaN;
    }

    private void runStep(RolloutGenerator generator, MetricsLog metrics) {
        long t0 = System.nanoTime();
        int B = c.promptsPerStep(), G = c.numGenerations();
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < B; i++) prompts.add(rollouts.prompt(nextExample()));
        SamplingParams sp = SamplingParams.sample(c.temperature().floatValue(), c.maxCompletionLength(), Seeds.sub(Seeds.step(c.seed(), step), 0))
                .withTopK(c.topK()).withTopP(c.topP().floatValue()).withLogprobMode(LogprobMode.TEMPERATURE);
        long[] nanos = new long[2];
        StepData d = new StepData();
        try (var merged = policy.mergedAdapters()) {   // LoRA: decoding reads W + B·A·alpha/r
            d.batch = generator.sampleAndScore(step, prompts, G, sp, nanos);
        }
        long tUpdate = System.nanoTime();
        d.n = d.batch.size();
        for (Sample s : d.batch) {
            d.ps.add(s.prompt().ids());
            d.cs.add(s.tokens());
        }
        d.plan = plan(d.n);
        for (List<int[]> mini : d.plan) for (int[] micro : mini) d.batches.put(micro, batch(micro, d.ps, d.cs));
        scoreOld(d);
        advantages(d);
        placeInputs(d);
        UpdateSums u = update(d);
        long tEnd = System.nanoTime();
        step++;
        nonFinite.record(u.finite);
        generator.policyUpdated(step);

        long stepTokens = 0;
        for (Sample s : d.batch) stepTokens += s.prompt().ids().length + s.tokens().length;
        numTokens += stepTokens;
        double stepTime = (tEnd - t0) / 1e9;
        Map<String, Object> m = stepMetrics(d, u, B, G);
        m.put("num_tokens", numTokens);
        m.put("tokens_per_second", stepTokens / stepTime);
        m.put("time/rollout", nanos[0] / 1e9);
        m.put("time/score", nanos[1] / 1e9);
        m.put("time/update", (tEnd - tUpdate) / 1e9);
        m.putAll(generator.stepMetrics());
        m.put("step_time", stepTime);
        m.put("non_finite_steps", nonFinite.total());
        metrics.write(m);
        if (c.logCompletionsSteps() > 0 && step % c.logCompletionsSteps() == 0) writeSamples(d.batch, d.adv);
        LOG.info("ppo step {}/{}: reward {} value_loss {}", step, totalSteps, m.get("reward"), m.get("value_loss"));
        listener.onStep(step, m);
    }

    /** Old log-probs, reference log-probs (kl_coef &gt; 0) and old values of every completion token, no grad. */
    private void scoreOld(StepData d) {
        d.old = new float[d.n][];
        d.ref = c.klCoef() > 0 ? new float[d.n][] : null;
        d.oldV = new float[d.n][];
        try (var ng = Grad.noGrad()) {
            for (List<int[]> mini : d.plan) {
                for (int[] micro : mini) {
                    Batch b = d.batches.get(micro);
                    // GAE runs on the host: on a device the old / reference log-probs and the values come back
                    // once per step, [rows, T] each (PPO's only per-step copy bigger than a scalar)
                    Tensor lp = policy.scoreTokens(b, c.temperature().floatValue(), false).logprobs().toHost();
                    Tensor rl = d.ref == null ? null : referenceScores(b);
                    Tensor v = value.values(b).toHost();
                    for (int row = 0; row < micro.length; row++) {
                        d.old[micro[row]] = b.completionValues(lp, row);
                        if (d.ref != null) d.ref[micro[row]] = b.completionValues(rl, row);
                        d.oldV[micro[row]] = b.completionValues(v, row);
                    }
                }
            }
        }
    }

    /** Per-token rewards (−kl_coef · KL, plus the rule reward on the last token) through GAE; whitened when on. */
    private void advantages(StepData d) {
        d.adv = new float[d.n][];
        d.ret = new float[d.n][];
        double advSum = 0, advSq = 0;
        for (int i = 0; i < d.n; i++) {
            int L = d.cs.get(i).length;
            float[] r = new float[L];
            for (int t = 0; t < L; t++) {
                double kl = d.ref == null ? 0 : d.old[i][t] - d.ref[i][t];
                d.klSum += kl;
                r[t] = (float) (-c.klCoef() * kl);
            }
            r[L - 1] += (float) d.batch.get(i).reward();
            Gae.Result g = Gae.compute(r, d.oldV[i], c.gamma(), c.lam());
            d.adv[i] = g.advantages();
            d.ret[i] = g.returns();
            for (int t = 0; t < L; t++) {
                advSum += d.adv[i][t];
                advSq += (double) d.adv[i][t] * d.adv[i][t];
                d.valSum += d.oldV[i][t];
                d.retSum += d.ret[i][t];
            }
            d.tokens += L;
        }
        if (c.whitenAdvantages() && d.tokens > 1) {
            double mean = advSum / d.tokens, var = (advSq - d.tokens * mean * mean) / (d.tokens - 1);
            double inv = 1.0 / Math.sqrt(Math.max(var, 0) + 1e-8);
            for (float[] a : d.adv) for (int t = 0; t < a.length; t++) a[t] = (float) ((a[t] - mean) * inv);
        }
    }

    /** The loss inputs of each micro-batch, placed [rows, T] and (on a device) uploaded once per step. */
    private void placeInputs(StepData d) {
        String[] names = {"old log-probs", "advantages", "old values", "returns", "completion mask"};
        for (List<int[]> mini : d.plan) {
            for (int[] micro : mini) {
                Batch b = d.batches.get(micro);
                Tensor[] in = {place(d.old, micro, b), place(d.adv, micro, b), place(d.oldV, micro, b), place(d.ret, micro, b),
                    b.completionMask()};
                if (device != null)
                    for (int k = 0; k < in.length; k++) in[k] = in[k].toDevice(device, "ppo " + names[k] + " " + b.B() + "x" + b.T());
                d.inputs.put(micro, in);
            }
        }
    }

    /** {@code num_ppo_epochs} passes of mini-batch updates of both models; a non-finite one ends the step (undone). */
    private UpdateSums update(StepData d) {
        UpdateSums u = new UpdateSums();
        // several updates: a non-finite one after others were applied undoes the whole step
        StepUndo undo = c.numPpoEpochs() * d.plan.size() > 1 ? StepUndo.take(policyOpt, valueOpt) : null;
        long updatesAtStart = updates;
        for (int epoch = 0; epoch < c.numPpoEpochs(); epoch++) {
            for (List<int[]> mini : d.plan) {
                double loss = accumulate(d, epoch, mini, u);
                double pn = Double.NaN, vn = Double.NaN;
                if (u.finite) {
                    pn = c.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(policy.trainableParameters(), c.maxGradNorm()) : GradClip.globalNorm(policy.trainableParameters());
                    vn = c.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(value.parameters(), c.maxGradNorm()) : GradClip.globalNorm(value.parameters());
                    u.finite = Double.isFinite(pn) && Double.isFinite(vn);
                }
                if (!u.finite) {
                    policyOpt.zeroGrad();
                    valueOpt.zeroGrad();
                    if (undo != null && u.done > 0) {
                        undo.restore();
                        updates = updatesAtStart;
                    }
                    return u;
                }
                u.lr = policySchedule.lr(updates);
                policyOpt.setLr(u.lr);
                valueOpt.setLr(valueSchedule.lr(updates));
                policyOpt.step();
                valueOpt.step();
                policyOpt.zeroGrad();
                valueOpt.zeroGrad();
                updates++;
                u.done++;
                u.lossSum += loss;
                u.normSum += pn;
            }
        }
        return u;
    }

    /** Forward and backward of one mini-batch's micro-batches; its loss sum (u.finite false at the first NaN/Inf loss). */
    private double accumulate(StepData d, int epoch, List<int[]> mini, UpdateSums u) {
        double miniTokens = 0;
        for (int[] micro : mini) for (int i : micro) miniTokens += d.cs.get(i).length;
        double loss = 0;
        for (int[] micro : mini) {
            Batch b = d.batches.get(micro);
            TokenScores s = policy.scoreTokens(b, c.temperature().floatValue(), epoch == 0);
            Tensor values = value.values(b);
            Tensor[] in = d.inputs.get(micro);
            Tensor mask = in[4];
            PpoLoss.Result res = PpoLoss.compute(s.logprobs(), in[0], in[1], values, in[2], in[3], mask, c.cliprange(),
                    c.cliprangeValue(), c.vfCoef(), miniTokens);
            float lv = res.lossValue();
            if (!Float.isFinite(lv)) {
                u.finite = false;
                break;
            }
            res.loss().backward();
            loss += lv;
            u.pgSum += res.pgLoss() / miniTokens;
            u.vfSum += res.vfLoss() / miniTokens;
            u.clipped += res.clipped();
            u.vclipped += res.vfClipped();
            u.active += res.activeTokens();
            if (epoch == 0) {
                u.entropy += TrainingReductions.maskedSum(s.entropy(), mask, "ppo entropy sum");
                u.entTok += res.activeTokens();
            }
        }
        return loss;
    }

    /** The step's metrics line up to {@code grad_norm} and {@code learning_rate}; the caller adds counts and times. */
    private Map<String, Object> stepMetrics(StepData d, UpdateSums u, int B, int G) {
        int n = d.n;
        List<Sample> batch = d.batch;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", step);
        if (stage != null) m.put("stage", stage);
        double[] rw = new double[n];
        for (int i = 0; i < n; i++) rw[i] = batch.get(i).reward();
        double mean = 0;
        for (double v : rw) mean += v / n;
        double ss = 0;
        for (double v : rw) ss += (v - mean) * (v - mean);
        m.put("reward", mean);
        m.put("reward_std", n > 1 ? Math.sqrt(ss / (n - 1)) : 0.0);
        List<String> names = rollouts.rewardNames();
        for (int f = 0; f < names.size(); f++) {
            double sum = 0;
            int cnt = 0;
            for (Sample s : batch) if (s.rewardValues()[f] != null) { sum += s.rewardValues()[f]; cnt++; }
            m.put("rewards/" + names.get(f) + "/mean", cnt == 0 ? Double.NaN : sum / cnt);
        }
        if (G >= 2) {
            int z = 0;
            for (boolean zs : Advantages.zeroStdGroups(rw, G)) if (zs) z++;
            m.put("frac_reward_zero_std", (double) z / B);
        } else {
            m.put("frac_reward_zero_std", Double.NaN);
        }
        double len = 0, lenC = 0, lenW = 0;
        int correct = 0, trunc = 0;
        for (Sample s : batch) {
            len += s.tokens().length;
            if (s.correct()) { correct++; lenC += s.tokens().length; } else lenW += s.tokens().length;
            if (s.truncated()) trunc++;
        }
        m.put("completions/mean_length", len / n);
        m.put("completions/mean_length_correct", correct == 0 ? Double.NaN : lenC / correct);
        m.put("completions/mean_length_incorrect", correct == n ? Double.NaN : lenW / (n - correct));
        m.put("completions/clipped_ratio", (double) trunc / n);
        m.put("kl", d.ref == null ? Double.NaN : d.klSum / d.tokens);
        m.put("entropy", u.entTok == 0 ? Double.NaN : u.entropy / u.entTok);
        double act = Math.max(1, u.active);
        m.put("clip_ratio/region_mean", u.clipped / act);
        m.put("loss", u.done == 0 ? Double.NaN : u.lossSum / u.done);
        m.put("policy_loss", u.done == 0 ? Double.NaN : u.pgSum / u.done);
        m.put("value_loss", u.done == 0 ? Double.NaN : u.vfSum / u.done);
        m.put("value_clip_ratio", u.vclipped / act);
        m.put("values/mean", d.valSum / d.tokens);
        m.put("returns/mean", d.retSum / d.tokens);
        m.put("grad_norm", u.done == 0 ? Double.NaN : u.normSum / u.done);
        m.put("learning_rate", Float.isNaN(u.lr) ? Double.NaN : (double) u.lr);
        return m;
    }

    /** GRPO's fields; {@code advantage} is the mean of the completion's token advantages (GAE, whitened when on). */
    private void writeSamples(List<Sample> batch, float[][] adv) {
        List<String> names = rollouts.rewardNames();
        List<ObjectNode> lines = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Sample s = batch.get(i);
            ObjectNode o = JSON.createObjectNode();
            o.put("step", step);
            o.put("group", s.group());
            s.putCommonFields(o, names);
            double a = 0;
            for (float v : adv[i]) a += v;
            o.put("advantage", adv[i].length == 0 ? 0.0 : a / adv[i].length);
            o.put("length", s.tokens().length);
            o.put("finish_reason", s.finishReason().wireName());
            o.put("correct", s.correct());
            lines.add(o);
        }
        SampleFiles.write(outputs.samples(), step, lines);
    }

    private static boolean finite(List<Parameter> ps) {
        return TrainingReductions.weightsFinite(ps);
    }

    private List<List<int[]>> plan(int n) {
        int minis = Math.min(c.numMiniBatches(), n);
        List<List<int[]>> plan = new ArrayList<>();
        for (int mb = 0; mb < minis; mb++) {
            int s = n * mb / minis, e = n * (mb + 1) / minis;
            int k = Math.min(c.gradientAccumulationSteps(), e - s);
            List<int[]> micros = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                int a = s + (e - s) * j / k, z = s + (e - s) * (j + 1) / k;
                int[] r = new int[z - a];
                for (int i = 0; i < r.length; i++) r[i] = a + i;
                micros.add(r);
            }
            plan.add(micros);
        }
        return plan;
    }

    private static Batch batch(int[] micro, List<int[]> ps, List<int[]> cs) {
        List<int[]> p = new ArrayList<>(), q = new ArrayList<>();
        for (int i : micro) {
            p.add(ps.get(i));
            q.add(cs.get(i));
        }
        return Batch.of(p, q);
    }

    private static Tensor place(float[][] values, int[] micro, Batch b) {
        float[] d = new float[b.B() * b.T()];
        for (int row = 0; row < micro.length; row++) {
            float[] v = values[micro[row]];
            System.arraycopy(v, 0, d, row * b.T() + b.completionStart(row), v.length);
        }
        return Tensor.wrap(d, b.B(), b.T());
    }

    private Example nextExample() {
        long epoch = consumed / train.size();
        if (epoch != cachedEpoch) {
            epochOrder = train.shuffle(c.seed() + epoch);
            cachedEpoch = epoch;
        }
        return epochOrder.get((int) (consumed++ % train.size()));
    }

    // ------------------------------------------------------------------ checkpoints

    private Path save() {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        AdamW.State ps = policyOpt.exportState(), vs = valueOpt.exportState();
        ps.tensors().forEach((k, v) -> tensors.put("policy_opt/" + k, v));
        vs.tensors().forEach((k, v) -> tensors.put("value_opt/" + k, v));
        for (Parameter p : value.parameters()) tensors.put("value/" + p.name(), p.data());
        Map<String, Double> extra = new HashMap<>();
        vs.scalars().forEach((k, v) -> extra.put("value_opt/" + k, v));
        TrainerState st = checkpoint.state(step, updates, consumed, nonFinite, numTokens, ps.scalars(), extra);
        return checkpoint.save(dir -> {
            policy.save(dir, DType.F32);
            if (policy.sourceDir() == null && tokenizer instanceof CharTokenizer ct) ct.save(dir);
        }, tensors, st);
    }

    /** The reference's log-probs of {@code b} on the host; with LoRA the policy's with its adapters off. */
    private Tensor referenceScores(Batch b) {
        float t = c.temperature().floatValue();
        if (reference == policy && policy.lora() != null)
            return policy.lora().withDisabled(() -> policy.scoreTokens(b, t, false).logprobs().toHost());
        return reference.scoreTokens(b, t, false).logprobs().toHost();
    }

    /** Continues from a checkpoint whose seed and RNG scheme {@link TrainerCheckpoint} checked: both models and optimizers. */
    private void restore(TrainerCheckpoint.Restored r) {
        Path ck = r.dir();
        TrainerState s = r.state();
        checkpoint.loadParameters(ck, policy.trainableParameters());
        Map<String, float[]> t = TrainerCheckpoint.optimizerTensors(ck);
        Map<String, float[]> po = new HashMap<>(), vo = new HashMap<>();
        for (var e : t.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("policy_opt/")) po.put(k.substring(11), e.getValue());
            else if (k.startsWith("value_opt/")) vo.put(k.substring(10), e.getValue());
        }
        for (Parameter p : value.parameters()) {
            float[] v = t.get("value/" + p.name());
            if (v == null) throw new IllegalStateException("ppo resume: " + ck + " has no value-model tensor " + p.name());
            p.copyFrom(v);
        }
        Map<String, Double> vsc = new HashMap<>();
        s.extra().forEach((k, v) -> { if (k.startsWith("value_opt/")) vsc.put(k.substring(10), v); });
        policyOpt.importState(new AdamW.State(po, s.optimizerScalars()));
        valueOpt.importState(new AdamW.State(vo, vsc));
        step = s.step();
        updates = s.optimizerUpdates();
        consumed = s.consumedPrompts();
        nonFinite.restore(s.nonFiniteStreak(), s.nonFiniteSteps());
        numTokens = s.numTokens();
    }
}

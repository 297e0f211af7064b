package io.r1kit.grpo.ppo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.grpo.Seeds;
import io.r1kit.grpo.StepUndo;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.rollout.Rollouts;
import io.r1kit.grpo.rollout.Rollouts.Prompt;
import io.r1kit.grpo.rollout.Rollouts.Sample;
import io.r1kit.grpo.rollout.SampleFiles;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.TokenScores;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.LogprobMode;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpoint;
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
import io.r1kit.grpo.GrpoTrainer;
import io.r1kit.grpo.TrainingReductions;
import io.r1kit.model.backend.device.DeviceBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
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

    public static final class Builder {
        private final PpoConfig config;
        private CausalLM policy, valueBackbone;
        private Tokenizer tokenizer;
        private PromptTemplate template;
        private Dataset train;
        private CompositeReward rewards;
        private OutputPaths outputs;
        private String stage;
        private boolean resume, addSpecialTokens = true;
        private Consumer<Map<String, Object>> onStep = m -> {};

        private Builder(PpoConfig c) {
            this.config = Objects.requireNonNull(c);
        }

        public Builder policy(CausalLM m) { this.policy = m; return this; }
        /** The value model's backbone when value_model = separate (a smaller model over the same tokenizer). */
        public Builder valueBackbone(CausalLM m) { this.valueBackbone = m; return this; }
        public Builder tokenizer(Tokenizer t) { this.tokenizer = t; return this; }
        public Builder template(PromptTemplate t) { this.template = t; return this; }
        public Builder train(Dataset d) { this.train = d; return this; }
        public Builder rewards(CompositeReward r) { this.rewards = r; return this; }
        public Builder outputDir(Path d) { this.outputs = OutputPaths.under(d); return this; }
        /** Each output in its own place (the pipeline's run directory layout). */
        public Builder outputs(OutputPaths o) { this.outputs = o; return this; }
        public Builder stage(String s) { this.stage = s; return this; }
        public Builder resume(boolean r) { this.resume = r; return this; }
        public Builder addSpecialTokens(boolean a) { this.addSpecialTokens = a; return this; }
        /** Called after each step's metrics line (tests: simulate a kill by throwing). */
        public Builder onStep(Consumer<Map<String, Object>> f) { this.onStep = Objects.requireNonNull(f); return this; }

        public PpoTrainer build() {
            if (policy == null || tokenizer == null || template == null || train == null || rewards == null || outputs == null) {
                throw new IllegalStateException("ppo trainer: policy, tokenizer, template, train, rewards and outputDir must all be set");
            }
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
    private final OutputPaths outputs;
    private final String stage;
    private final boolean resume;
    private final Consumer<Map<String, Object>> onStep;
    private final CausalLM separateBackbone;
    private final CheckpointStore store;
    private final long totalSteps;
    private final LrSchedule policySchedule, valueSchedule;

    private ValueModel value;
    private CausalLM reference;
    /** Where the policy lives (null: the host). */
    private DeviceBackend device;
    private AdamW policyOpt, valueOpt;
    private long step, updates, consumed, numTokens, nonFiniteSteps;
    private int nonFiniteStreak;
    private long cachedEpoch = -1;
    private Dataset epochOrder;

    private PpoTrainer(Builder b) {
        this.c = b.config;
        this.policy = b.policy;
        this.tokenizer = b.tokenizer;
        this.train = b.train;
        this.outputs = b.outputs;
        this.stage = b.stage;
        this.resume = b.resume;
        this.onStep = b.onStep;
        this.separateBackbone = b.valueBackbone;
        this.rollouts = new Rollouts(b.tokenizer, b.template, b.rewards, c.maxPromptLength(), b.addSpecialTokens, null, null, 1.0);
        this.store = new CheckpointStore(outputs.checkpoints(), c.saveTotalLimit());
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
        if (c.klCoef() > 0) reference = device == null ? policy.copy() : policy.copy().moveTo(device).precision(policy.precision());
        value = new ValueModel(separateBackbone != null ? separateBackbone : policy.copy(), Seeds.mix(c.seed()));
        if (device != null) value.moveTo(device);
        float wd = c.weightDecay().floatValue();
        policyOpt = new AdamW(AdamW.Config.defaults(c.learningRate().floatValue()).withWeightDecay(wd),
                ParamGroup.decayMatricesOnly(policy.parameters(), wd));
        valueOpt = new AdamW(AdamW.Config.defaults(c.valueLearningRate().floatValue()).withWeightDecay(wd),
                ParamGroup.decayMatricesOnly(value.parameters(), wd));
        Path metricsFile = outputs.metrics();
        Path last = null;
        if (resume) {
            store.cleanLeftovers();
            var latest = store.latest();
            if (latest.isPresent()) {
                restore(latest.get());
                last = latest.get();
            }
            MetricsLog.truncateAfter(metricsFile, step, stage);
            SampleFiles.dropAfter(outputs.samples(), step);
        } else if (MetricsLog.hasLines(metricsFile, stage) || !store.list().isEmpty()) {
            throw new IllegalStateException("ppo: " + outputs.checkpoints() + " or " + metricsFile + " already holds a run; resume it or choose a new output directory");
        }
        Generator generator = new Generator(policy, tokenizer);
        try (MetricsLog metrics = new MetricsLog(metricsFile)) {
            while (step < totalSteps) {
                boolean ok = runStep(generator, metrics);
                if (!ok && nonFiniteStreak >= c.maxNonFiniteSteps()) {
                    throw new GrpoTrainer.NonFiniteLossException("ppo: stopping after " + nonFiniteStreak
                            + " consecutive steps with NaN/Inf loss or gradients; the last good checkpoint is "
                            + store.latest().map(Path::toString).orElse("(none written yet)"));
                }
                // skipped steps leave the weights unchanged; NaN/Inf weights are never checkpointed
                if (((c.saveSteps() > 0 && step % c.saveSteps() == 0) || step == totalSteps)
                        && finite(policy.parameters()) && finite(value.parameters())) {
                    last = save();
                }
            }
        } finally {
            rollouts.close();
        }
        return new Result(step, last, nonFiniteSteps);
    }

    private boolean runStep(Generator generator, MetricsLog metrics) {
        long t0 = System.nanoTime();
        int B = c.promptsPerStep(), G = c.numGenerations();
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < B; i++) prompts.add(rollouts.prompt(nextExample()));
        SamplingParams sp = SamplingParams.sample(c.temperature().floatValue(), c.maxCompletionLength(), Seeds.sub(Seeds.step(c.seed(), step), 0))
                .withTopK(c.topK()).withTopP(c.topP().floatValue()).withLogprobMode(LogprobMode.TEMPERATURE);
        long[] nanos = new long[2];
        List<Sample> batch = rollouts.sampleAndScore(generator, prompts, G, sp, nanos);
        long tUpdate = System.nanoTime();
        int n = batch.size();
        List<int[]> ps = new ArrayList<>(), cs = new ArrayList<>();
        for (Sample s : batch) {
            ps.add(s.prompt().ids());
            cs.add(s.tokens());
        }
        List<List<int[]>> plan = plan(n);
        Map<int[], Batch> batches = new java.util.IdentityHashMap<>();   // one Batch per micro-batch: a device uploads its arrays once
        for (List<int[]> mini : plan) for (int[] micro : mini) batches.put(micro, batch(micro, ps, cs));
        float[][] old = new float[n][], ref = c.klCoef() > 0 ? new float[n][] : null, oldV = new float[n][];
        try (var ng = Grad.noGrad()) {
            for (List<int[]> mini : plan) {
                for (int[] micro : mini) {
                    Batch b = batches.get(micro);
                    // GAE runs on the host: on a device the old / reference log-probs and the values come back
                    // once per step, [rows, T] each (PPO's only per-step copy bigger than a scalar)
                    Tensor lp = policy.scoreTokens(b, c.temperature().floatValue(), false).logprobs().toHost();
                    Tensor rl = ref == null ? null : reference.scoreTokens(b, c.temperature().floatValue(), false).logprobs().toHost();
                    Tensor v = value.values(b).toHost();
                    for (int row = 0; row < micro.length; row++) {
                        old[micro[row]] = b.completionValues(lp, row);
                        if (ref != null) ref[micro[row]] = b.completionValues(rl, row);
                        oldV[micro[row]] = b.completionValues(v, row);
                    }
                }
            }
        }
        // per-token rewards and GAE
        float[][] adv = new float[n][], ret = new float[n][];
        double klSum = 0, tokens = 0, advSum = 0, advSq = 0, valSum = 0, retSum = 0;
        for (int i = 0; i < n; i++) {
            int L = cs.get(i).length;
            float[] r = new float[L];
            for (int t = 0; t < L; t++) {
                double kl = ref == null ? 0 : old[i][t] - ref[i][t];
                klSum += kl;
                r[t] = (float) (-c.klCoef() * kl);
            }
            r[L - 1] += (float) batch.get(i).reward();
            Gae.Result g = Gae.compute(r, oldV[i], c.gamma(), c.lam());
            adv[i] = g.advantages();
            ret[i] = g.returns();
            for (int t = 0; t < L; t++) {
                advSum += adv[i][t];
                advSq += (double) adv[i][t] * adv[i][t];
                valSum += oldV[i][t];
                retSum += ret[i][t];
            }
            tokens += L;
        }
        if (c.whitenAdvantages() && tokens > 1) {
            double mean = advSum / tokens, var = (advSq - tokens * mean * mean) / (tokens - 1);
            double inv = 1.0 / Math.sqrt(Math.max(var, 0) + 1e-8);
            for (float[] a : adv) for (int t = 0; t < a.length; t++) a[t] = (float) ((a[t] - mean) * inv);
        }

        // the loss inputs of each micro-batch, placed [rows, T] and (on a device) uploaded once per step
        Map<int[], Tensor[]> inputs = new java.util.IdentityHashMap<>();
        for (List<int[]> mini : plan) {
            for (int[] micro : mini) {
                Batch b = batches.get(micro);
                Tensor[] in = {place(old, micro, b), place(adv, micro, b), place(oldV, micro, b), place(ret, micro, b), b.completionMask()};
                String[] names = {"old log-probs", "advantages", "old values", "returns", "completion mask"};
                if (device != null)
                    for (int k = 0; k < in.length; k++) in[k] = in[k].toDevice(device, "ppo " + names[k] + " " + b.B() + "x" + b.T());
                inputs.put(micro, in);
            }
        }
        double lossSum = 0, pgSum = 0, vfSum = 0, clipped = 0, vclipped = 0, active = 0, normSum = 0, entropy = 0, entTok = 0;
        int done = 0;
        boolean finite = true;
        float lr = Float.NaN;
        // several updates: a non-finite one after others were applied undoes the whole step
        StepUndo undo = c.numPpoEpochs() * plan.size() > 1 ? StepUndo.take(policyOpt, valueOpt) : null;
        long updatesAtStart = updates;
        outer:
        for (int epoch = 0; epoch < c.numPpoEpochs(); epoch++) {
            for (List<int[]> mini : plan) {
                double miniTokens = 0;
                for (int[] micro : mini) for (int i : micro) miniTokens += cs.get(i).length;
                double loss = 0;
                for (int[] micro : mini) {
                    Batch b = batches.get(micro);
                    TokenScores s = policy.scoreTokens(b, c.temperature().floatValue(), epoch == 0);
                    Tensor values = value.values(b);
                    Tensor[] in = inputs.get(micro);
                    Tensor mask = in[4];
                    PpoLoss.Result res = PpoLoss.compute(s.logprobs(), in[0], in[1], values, in[2], in[3], mask, c.cliprange(),
                            c.cliprangeValue(), c.vfCoef(), miniTokens);
                    float lv = res.lossValue();
                    if (!Float.isFinite(lv)) {
                        finite = false;
                        break;
                    }
                    res.loss().backward();
                    loss += lv;
                    pgSum += res.pgLoss() / miniTokens;
                    vfSum += res.vfLoss() / miniTokens;
                    clipped += res.clipped();
                    vclipped += res.vfClipped();
                    active += res.activeTokens();
                    if (epoch == 0) {
                        entropy += TrainingReductions.maskedSum(s.entropy(), mask, "ppo entropy sum");
                        entTok += res.activeTokens();
                    }
                }
                double pn = Double.NaN, vn = Double.NaN;
                if (finite) {
                    pn = c.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(policy.parameters(), c.maxGradNorm()) : GradClip.globalNorm(policy.parameters());
                    vn = c.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(value.parameters(), c.maxGradNorm()) : GradClip.globalNorm(value.parameters());
                    finite = Double.isFinite(pn) && Double.isFinite(vn);
                }
                if (!finite) {
                    policyOpt.zeroGrad();
                    valueOpt.zeroGrad();
                    if (undo != null && done > 0) {
                        undo.restore();
                        updates = updatesAtStart;
                    }
                    break outer;
                }
                lr = policySchedule.lr(updates);
                policyOpt.setLr(lr);
                valueOpt.setLr(valueSchedule.lr(updates));
                policyOpt.step();
                valueOpt.step();
                policyOpt.zeroGrad();
                valueOpt.zeroGrad();
                updates++;
                done++;
                lossSum += loss;
                normSum += pn;
            }
        }
        long tEnd = System.nanoTime();
        step++;
        if (finite) nonFiniteStreak = 0; else { nonFiniteStreak++; nonFiniteSteps++; }

        long stepTokens = 0;
        for (Sample s : batch) stepTokens += s.prompt().ids().length + s.tokens().length;
        numTokens += stepTokens;
        double stepTime = (tEnd - t0) / 1e9;
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
        m.put("kl", ref == null ? Double.NaN : klSum / tokens);
        m.put("entropy", entTok == 0 ? Double.NaN : entropy / entTok);
        double act = Math.max(1, active);
        m.put("clip_ratio/region_mean", clipped / act);
        m.put("loss", done == 0 ? Double.NaN : lossSum / done);
        m.put("policy_loss", done == 0 ? Double.NaN : pgSum / done);
        m.put("value_loss", done == 0 ? Double.NaN : vfSum / done);
        m.put("value_clip_ratio", vclipped / act);
        m.put("values/mean", valSum / tokens);
        m.put("returns/mean", retSum / tokens);
        m.put("grad_norm", done == 0 ? Double.NaN : normSum / done);
        m.put("learning_rate", Float.isNaN(lr) ? Double.NaN : (double) lr);
        m.put("num_tokens", numTokens);
        m.put("tokens_per_second", stepTokens / stepTime);
        m.put("time/rollout", nanos[0] / 1e9);
        m.put("time/score", nanos[1] / 1e9);
        m.put("time/update", (tEnd - tUpdate) / 1e9);
        m.put("step_time", stepTime);
        m.put("non_finite_steps", nonFiniteSteps);
        metrics.write(m);
        if (c.logCompletionsSteps() > 0 && step % c.logCompletionsSteps() == 0) writeSamples(batch, adv);
        LOG.info("ppo step {}/{}: reward {} value_loss {}", step, totalSteps, m.get("reward"), m.get("value_loss"));
        onStep.accept(m);
        return finite;
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
        TrainerState st = new TrainerState(step, updates, consumed, c.seed(), TrainerState.RNG_SCHEME, nonFiniteStreak, nonFiniteSteps,
                numTokens, ps.scalars(), c.toMap(), extra);
        return store.save(step, dir -> {
            policy.save(dir, DType.F32);
            if (policy.sourceDir() == null && tokenizer instanceof CharTokenizer ct) ct.save(dir);
        }, tensors, st.toJson());
    }

    private void restore(Path ck) {
        TrainerState s = TrainerState.fromJson(CheckpointStore.readState(ck), ck.toString());
        if (s.seed() != c.seed()) throw new IllegalStateException("ppo resume: " + ck + " has seed " + s.seed() + ", the config " + c.seed());
        try (HfCheckpoint hc = HfCheckpoint.open(ck)) {
            for (Parameter p : policy.parameters()) p.copyFrom(hc.load(p.name(), p.shape()));
        } catch (IOException e) {
            throw new UncheckedIOException("ppo resume: cannot read " + ck + ": " + e.getMessage(), e);
        }
        Map<String, float[]> t = CheckpointStore.readOptimizer(ck);
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
        nonFiniteStreak = s.nonFiniteStreak();
        nonFiniteSteps = s.nonFiniteSteps();
        numTokens = s.numTokens();
    }
}

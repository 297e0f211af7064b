package io.r1kit.grpo.sft;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.data.Dataset;
import io.r1kit.data.template.ChatTemplateRenderer;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpointWriter;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.optim.LrSchedule;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Supervised fine-tuning and causal-LM pretraining of a {@link CausalLM} (TRL's {@code SFTTrainer}).
 *
 * <pre>
 *   SftTrainer t = SftTrainer.builder(model, tokenizer, SftConfig.of(Map.of("max_seq_length", 256)))
 *           .template(PromptTemplates.byName("toy"))   // or the config's "template"
 *           .outputDir(runDir).stage("sft").resume(true).build();
 *   SftTrainer.Result r = t.train(trainSet, evalSet);  // evalSet may be null
 * </pre>
 *
 * <p><b>Loss.</b> Mean negative log-likelihood over the loss tokens of each optimizer step (see
 * {@link SftLoss}); prompt tokens are context only when {@code completion_only_loss} is on, raw
 * {@code text} documents train on every token (see {@link ExampleEncoder}).
 *
 * <p><b>Packing.</b> With {@code packing} the examples are bin-packed (best-fit decreasing) into
 * sequences of {@code max_seq_length} tokens and a step takes {@code batch_size ×
 * gradient_accumulation_steps} such sequences, so steps hold a constant number of tokens as in TRL.
 * r1kit's attention takes a key mask and the causal mask but not a block-diagonal mask, so a packed
 * sequence is not run as one row: each of its examples is its own row (positions from 0, padding
 * masked), and rows of similar length share a forward pass. Attention therefore never crosses an
 * example boundary, and each example's loss is exactly its loss when run alone (tested); the cost is
 * the padding inside a forward pass, which length-sorting keeps small.
 *
 * <p><b>Output directory.</b> {@code metrics.jsonl} (one line per {@code logging_steps}: {@code step},
 * {@code epoch}, {@code loss}, {@code learning_rate}, {@code grad_norm}, {@code num_tokens},
 * {@code tokens_per_second}; eval lines: {@code eval/loss}, {@code eval/num_tokens}; every line has
 * {@code stage} when one is given), {@code checkpoints/checkpoint-N/} (the model in the Hugging Face
 * layout at float32, {@code optimizer.safetensors}, {@code trainer_state.json}; written atomically by
 * {@link CheckpointStore}) and {@code model/} (the final model, HF layout, with the tokenizer files).
 *
 * <p><b>Resume.</b> With {@code resume(true)} training continues from the newest checkpoint: weights,
 * AdamW moments and step counts, the step number (the LR schedule's position) and the metrics window
 * are restored, and the batches are recomputed from the seed ({@link StepPlan}); metrics lines after
 * the checkpoint are dropped. A run of 2N steps and a run killed after the checkpoint at N then
 * resumed end with identical weights (tested bit for bit).
 */
public final class SftTrainer {

    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String MODEL_DIR = "model";
    static final String RNG_SCHEME = "sft: epoch order = shuffle(seed + epoch); no other randomness";

    /** What a run did. {@code evalLoss} is NaN without an eval set; {@code modelDir} is null without an output dir. */
    public record Result(long steps, double trainLoss, double evalLoss, long numTokens, double tokensPerSecond,
                         Path modelDir, boolean halted) {}

    private final CausalLM model;
    private final Tokenizer tokenizer;
    private final SftConfig cfg;
    private final PromptTemplate template;
    private final ChatTemplateRenderer chatTemplate;
    private final OutputPaths outputs;
    private final String stage;
    private final boolean resume;
    private final long haltAfterStep;
    private final Consumer<String> log;
    private final boolean saveFinalModel;

    private SftTrainer(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.cfg = b.config;
        this.template = b.template != null ? b.template : PromptTemplates.byName(cfg.template());
        this.chatTemplate = b.chatTemplate;
        this.outputs = b.outputs;
        this.stage = b.stage;
        this.resume = b.resume;
        this.haltAfterStep = b.haltAfterStep;
        this.log = b.log;
        this.saveFinalModel = b.saveFinalModel;
    }

    public static Builder builder(CausalLM model, Tokenizer tokenizer, SftConfig config) {
        return new Builder(model, tokenizer, config);
    }

    public static final class Builder {
        private final CausalLM model;
        private final Tokenizer tokenizer;
        private final SftConfig config;
        private PromptTemplate template;
        private ChatTemplateRenderer chatTemplate;
        private OutputPaths outputs;
        private String stage;
        private boolean resume;
        private long haltAfterStep = -1;
        private Consumer<String> log = s -> System.out.println("[sft] " + s);
        private boolean saveFinalModel = true;

        private Builder(CausalLM model, Tokenizer tokenizer, SftConfig config) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            this.config = Objects.requireNonNull(config, "config");
        }

        /** The prompt template of prompt/completion examples (default: the config's {@code template}). */
        public Builder template(PromptTemplate t) {
            this.template = t;
            return this;
        }

        /** The model's chat template, used for {@code messages} examples (default: none, "role: content" lines). */
        public Builder chatTemplate(ChatTemplateRenderer r) {
            this.chatTemplate = r;
            return this;
        }

        /** Where metrics, checkpoints and the final model go (default: none, nothing written). */
        public Builder outputDir(Path dir) {
            this.outputs = dir == null ? null : OutputPaths.under(dir);
            return this;
        }

        /**
         * Each output in its own place (the pipeline's run directory layout). The metrics file may be
         * shared with other stages: resume only drops lines of this trainer's {@code stage}.
         */
        public Builder outputs(OutputPaths o) {
            this.outputs = o;
            return this;
        }

        /** A {@code stage} field added to every metrics line (e.g. "pretrain", "sft-cold-start"). */
        public Builder stage(String s) {
            this.stage = s;
            return this;
        }

        /**
         * Continue from the newest checkpoint in the output dir. Without it, a directory that already
         * holds checkpoints is an error (so a run is never silently mixed with an older one).
         */
        public Builder resume(boolean r) {
            this.resume = r;
            return this;
        }

        /** Where progress lines go (default: stdout with an "[sft]" prefix). */
        public Builder log(Consumer<String> l) {
            this.log = Objects.requireNonNull(l);
            return this;
        }

        /** Write {@code model/} at the end (default true). */
        public Builder saveFinalModel(boolean s) {
            this.saveFinalModel = s;
            return this;
        }

        /**
         * Stops right after step {@code step} as a kill would (no final eval or save): for testing
         * resume. Negative = off.
         */
        public Builder haltAfterStep(long step) {
            this.haltAfterStep = step;
            return this;
        }

        public SftTrainer build() {
            return new SftTrainer(this);
        }
    }

    public SftConfig config() {
        return cfg;
    }

    /** The encoder this trainer renders and tokenizes with. */
    public ExampleEncoder encoder() {
        return new ExampleEncoder(tokenizer, template, chatTemplate, cfg);
    }

    /**
     * Trains on {@code train}; {@code eval} (may be null: then {@code eval_fraction} of train is held out
     * when it is &gt; 0) gives {@code eval/loss} every {@code eval_steps} and at the end.
     */
    public Result train(Dataset train, Dataset eval) {
        ExampleEncoder enc = encoder();
        if (eval == null && cfg.evalFraction() > 0) {
            Dataset.Split split = train.shuffle(cfg.seed()).splitFraction(cfg.evalFraction());
            train = split.train();
            eval = split.test();
        }
        ExampleEncoder.Encoded trainEnc = enc.encodeAll(train);
        List<EncodedExample> trainEx = trainEnc.examples();
        if (trainEnc.skippedNoLossTokens() > 0 || trainEnc.truncated() > 0)
            log.accept("train set: " + trainEnc.truncated() + " example(s) cut to max_seq_length " + cfg.maxSeqLength() + ", "
                    + trainEnc.skippedNoLossTokens() + " skipped (no loss token left)");
        List<EncodedExample> evalEx = eval == null ? List.of() : enc.encodeAll(eval).examples();

        StepPlan plan = new StepPlan(SftLoss.lengths(trainEx), cfg);
        long total = plan.totalSteps();
        long warmup = cfg.warmupSteps() > 0 ? Math.min(cfg.warmupSteps(), total) : (long) Math.ceil(cfg.warmupRatio() * total);
        LrSchedule schedule = schedule(cfg, warmup, total);
        AdamW opt = new AdamW(new AdamW.Config(cfg.learningRate().floatValue(), cfg.adamBeta1().floatValue(),
                cfg.adamBeta2().floatValue(), cfg.adamEpsilon().floatValue(), cfg.weightDecay().floatValue()),
                ParamGroup.decayMatricesOnly(model.parameters(), cfg.weightDecay().floatValue()))
                .momentsBf16(cfg.adamMoments().equals("bf16"));
        boolean ckptBefore = model.gradientCheckpointing();
        if (cfg.gradientCheckpointing()) model.gradientCheckpointing(true);

        CheckpointStore store = outputs == null ? null : new CheckpointStore(outputs.checkpoints(), cfg.saveTotalLimit());
        Path metricsFile = outputs == null ? null : outputs.metrics();
        Progress p = new Progress();
        p.trainExamples = trainEx.size();
        p.trainTokens = SftLoss.tokens(trainEx);
        if (store != null) {
            store.cleanLeftovers();
            Optional<Path> latest = store.latest();
            if (latest.isPresent() && !resume)
                throw new IllegalStateException("output dir " + outputs.checkpoints() + " already holds " + latest.get().getFileName()
                        + ": resume it (resume: true) or use a fresh output dir");
            if (latest.isPresent()) {
                restore(latest.get(), opt, p);
                MetricsLog.truncateAfter(metricsFile, p.step, stage);
                log.accept("resumed from " + latest.get() + " at step " + p.step + "/" + total);
            } else if (Files.exists(metricsFile)) {
                MetricsLog.truncateAfter(metricsFile, -1, stage);   // leftover of a run killed before its first checkpoint
            }
        }
        long padded = 0;
        for (int s = 0; s < plan.stepsPerEpoch(); s++)
            padded += SftLoss.paddedTokens(SftLoss.select(trainEx, plan.examplesOf(s)), cfg.forwardTokenBudget());
        long real = SftLoss.tokens(trainEx);
        log.accept(String.format("%d train examples (%d tokens, %d loss tokens) in %d sequences; %d steps (%d per epoch), "
                        + "%d warm-up; padding adds %.1f%% compute; %d eval examples; model %s", trainEx.size(), real,
                SftLoss.lossTokens(trainEx), plan.numSequences(), total, plan.stepsPerEpoch(), warmup,
                100.0 * (padded - real) / real, evalEx.size(), model));

        boolean halted = false;
        double lastEval = Double.NaN;
        try (MetricsLog metrics = metricsFile == null ? null : new MetricsLog(metricsFile)) {
            boolean resumedAtEnd = p.step >= total;
            while (p.step < total) {
                long t0 = System.nanoTime();
                List<EncodedExample> stepEx = SftLoss.select(trainEx, plan.examplesOf(p.step));
                long lossTokens = SftLoss.lossTokens(stepEx);
                double loss = 0;
                for (List<EncodedExample> chunk : SftLoss.chunks(stepEx, cfg.forwardTokenBudget())) {
                    Tensor l = SftLoss.loss(model, SftLoss.batch(chunk), lossTokens, cfg.mtpLossWeight(),
                            (double) chunk.size() / stepEx.size());
                    loss += l.item("sft loss");
                    l.backward();
                }
                double norm = cfg.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(opt.params(), cfg.maxGradNorm())
                        : GradClip.globalNorm(opt.params());
                float lr = schedule.lr(p.step);
                if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
                    opt.zeroGrad();
                    p.nonFiniteStreak++;
                    p.nonFiniteSteps++;
                    log.accept("step " + (p.step + 1) + ": non-finite loss " + loss + " / grad norm " + norm + ", update skipped");
                    if (p.nonFiniteStreak >= cfg.maxNonFiniteSteps())
                        throw new IllegalStateException("SFT: " + p.nonFiniteStreak + " consecutive steps with a NaN/Inf loss or gradient "
                                + "(max_non_finite_steps); lower learning_rate or check the data");
                } else {
                    opt.setLr(lr);
                    opt.step();
                    opt.zeroGrad();
                    if (model.hasMoe()) p.lastMoe = model.updateExpertBias(cfg.biasUpdateSpeed());
                    p.nonFiniteStreak = 0;
                    p.windowLoss += loss;
                    p.windowSteps++;
                }
                long tokens = SftLoss.tokens(stepEx);
                p.numTokens += tokens;
                p.consumed += stepEx.size();
                p.step++;
                p.windowTokens += tokens;
                p.windowNanos += System.nanoTime() - t0;
                p.lastGradNorm = norm;
                p.lastLr = lr;

                if (p.step % cfg.loggingSteps() == 0 || p.step == total) {
                    Map<String, Object> m = line(p.step, plan);
                    m.put("loss", p.windowSteps == 0 ? Double.NaN : p.windowLoss / p.windowSteps);
                    m.put("learning_rate", (double) p.lastLr);
                    m.put("grad_norm", p.lastGradNorm);
                    m.put("num_tokens", p.numTokens);
                    m.put("tokens_per_second", p.windowNanos == 0 ? 0.0 : p.windowTokens * 1e9 / p.windowNanos);
                    if (p.lastMoe != null) m.putAll(p.lastMoe.metrics());
                    if (metrics != null) metrics.write(m);
                    log.accept(MetricsLog.toJson(m));
                    p.lastTrainLoss = (Double) m.get("loss");
                    p.lastTokensPerSecond = (Double) m.get("tokens_per_second");
                    p.windowLoss = 0;
                    p.windowSteps = 0;
                    p.windowTokens = 0;
                    p.windowNanos = 0;
                }
                if (!evalEx.isEmpty() && cfg.evalSteps() > 0 && p.step % cfg.evalSteps() == 0 && p.step != total) {
                    lastEval = evalLine(evalEx, p.step, plan, metrics);
                }
                if (store != null && cfg.saveSteps() > 0 && p.step % cfg.saveSteps() == 0 && p.step != total) {
                    save(store, opt, p);
                }
                if (p.step == haltAfterStep) {
                    halted = true;
                    break;
                }
            }
            if (!halted) {
                if (!evalEx.isEmpty() && !resumedAtEnd) lastEval = evalLine(evalEx, total, plan, metrics);
                if (store != null && !resumedAtEnd) save(store, opt, p);
            }
        } finally {
            model.gradientCheckpointing(ckptBefore);
        }
        Path modelDir = null;
        if (!halted && outputs != null && saveFinalModel) {
            modelDir = outputs.finalModel();
            try {
                model.save(modelDir, writer(DType.F32));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save the model to " + modelDir + ": " + e.getMessage(), e);
            }
            log.accept("saved " + modelDir);
        }
        return new Result(p.step, p.lastTrainLoss, lastEval, p.numTokens, p.lastTokensPerSecond, modelDir, halted);
    }

    /** Mean per-token loss of {@code examples} (no gradient). */
    public double evaluate(List<EncodedExample> examples) {
        double sum = 0;
        long n = SftLoss.lossTokens(examples);
        if (n == 0) return Double.NaN;
        try (var ng = Grad.noGrad()) {
            for (List<EncodedExample> chunk : SftLoss.chunks(examples, cfg.forwardTokenBudget())) {
                Batch b = SftLoss.batch(chunk);
                for (double r : SftLoss.rowLosses(model, b)) sum += r;
            }
        }
        return sum / n;
    }

    private double evalLine(List<EncodedExample> evalEx, long step, StepPlan plan, MetricsLog metrics) {
        double l = evaluate(evalEx);
        Map<String, Object> m = line(step, plan);
        m.put("eval/loss", l);
        m.put("eval/num_tokens", SftLoss.lossTokens(evalEx));
        if (metrics != null) metrics.write(m);
        log.accept(MetricsLog.toJson(m));
        return l;
    }

    private Map<String, Object> line(long step, StepPlan plan) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (stage != null) m.put("stage", stage);
        m.put("step", step);
        m.put("epoch", (double) step / plan.stepsPerEpoch());
        return m;
    }

    static LrSchedule schedule(SftConfig c, long warmup, long total) {
        float lr = c.learningRate().floatValue(), min = c.minLrRatio().floatValue();
        return switch (c.lrScheduler()) {
            case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
            case LINEAR -> LrSchedule.warmupLinear(lr, warmup, total, min);
            case COSINE -> LrSchedule.warmupCosine(lr, warmup, total, min);
        };
    }

    /** The model writer with this trainer's tokenizer files and special-token ids. */
    HfCheckpointWriter writer(DType dtype) {
        HfCheckpointWriter w = model.writer().dtype(dtype);
        if (model.sourceDir() == null) {
            List<Integer> eos = new ArrayList<>(tokenizer.eosIds());
            eos.sort(null);
            w.config(model.hfConfig().withSpecialTokens(tokenizer.bosId().isPresent() ? tokenizer.bosId().getAsInt() : null, eos,
                    tokenizer.padId().isPresent() ? tokenizer.padId().getAsInt() : null));
            if (tokenizer instanceof CharTokenizer ct) {
                w.extraFile("tokenizer.json", ct.tokenizerJson().getBytes(StandardCharsets.UTF_8));
                w.extraFile("tokenizer_config.json", ct.tokenizerConfigJson().getBytes(StandardCharsets.UTF_8));
            }
        }
        return w;
    }

    // ------------------------------------------------------------------ checkpoints

    /** Mutable run position (everything a checkpoint must restore besides weights and optimizer). */
    private static final class Progress {
        long step, numTokens, consumed, nonFiniteSteps;
        long trainExamples, trainTokens;   // fingerprint of the encoded train set: a resume must see the same data
        int nonFiniteStreak;
        double windowLoss;
        long windowSteps, windowTokens, windowNanos;
        double lastGradNorm = Double.NaN, lastTrainLoss = Double.NaN, lastTokensPerSecond = Double.NaN;
        float lastLr;
        CausalLM.MoeBalance lastMoe;        // DeepSeekMoE balance of the last step (logged, not checkpointed)
    }

    private void save(CheckpointStore store, AdamW opt, Progress p) {
        AdamW.State os = opt.exportState();
        Map<String, Double> extra = new LinkedHashMap<>();
        extra.put("window_loss", p.windowLoss);
        extra.put("window_steps", (double) p.windowSteps);
        extra.put("last_grad_norm", p.lastGradNorm);
        extra.put("last_lr", (double) p.lastLr);
        extra.put("train_examples", (double) p.trainExamples);
        extra.put("train_tokens", (double) p.trainTokens);
        // NaN cannot be written to JSON: drop it (absent = NaN on restore)
        extra.values().removeIf(v -> !Double.isFinite(v));
        TrainerState st = new TrainerState(p.step, p.step - p.nonFiniteSteps, p.consumed, cfg.seed(), RNG_SCHEME,
                p.nonFiniteStreak, p.nonFiniteSteps, p.numTokens, os.scalars(), cfg.toMap(), extra);
        Path dir = store.save(p.step, d -> model.save(d, writer(DType.F32)), os.tensors(), st.toJson());
        log.accept("checkpoint " + dir);
    }

    private void restore(Path ckpt, AdamW opt, Progress p) {
        JsonNode json = CheckpointStore.readState(ckpt);
        TrainerState st = TrainerState.fromJson(json, ckpt.resolve(CheckpointStore.STATE_FILE).toString());
        if (st.seed() != cfg.seed())
            throw new IllegalStateException("cannot resume " + ckpt + ": it was trained with seed " + st.seed() + ", this run has seed "
                    + cfg.seed() + " (the batches would differ)");
        List<String> changed = new ArrayList<>();
        Map<String, Object> now = cfg.toMap();
        for (Map.Entry<String, Object> e : now.entrySet()) {
            Object was = st.config().get(e.getKey());
            if (was != null && !String.valueOf(was).equals(String.valueOf(e.getValue()))) changed.add(e.getKey() + ": " + was + " -> " + e.getValue());
        }
        Double ex = st.extra().get("train_examples"), tok = st.extra().get("train_tokens");
        if (ex != null && tok != null && (ex.longValue() != p.trainExamples || tok.longValue() != p.trainTokens))
            throw new IllegalStateException("cannot resume " + ckpt + ": it was trained on " + ex.longValue() + " examples / "
                    + tok.longValue() + " tokens, this run has " + p.trainExamples + " / " + p.trainTokens
                    + " (a different train set or encoding would change every later batch)");
        if (!changed.isEmpty()) log.accept("warning: resuming " + ckpt.getFileName() + " with a changed config: " + changed);
        try {
            model.copyWeightsFrom(CausalLM.load(ckpt));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the model of " + ckpt + ": " + e.getMessage(), e);
        }
        opt.importState(new AdamW.State(CheckpointStore.readOptimizer(ckpt), st.optimizerScalars()));
        p.step = st.step();
        p.numTokens = st.numTokens();
        p.consumed = st.consumedPrompts();
        p.nonFiniteSteps = st.nonFiniteSteps();
        p.nonFiniteStreak = st.nonFiniteStreak();
        p.windowLoss = st.extra().getOrDefault("window_loss", 0.0);
        p.windowSteps = st.extra().getOrDefault("window_steps", 0.0).longValue();
        p.lastGradNorm = st.extra().getOrDefault("last_grad_norm", Double.NaN);
        p.lastLr = st.extra().getOrDefault("last_lr", 0.0).floatValue();
    }
}

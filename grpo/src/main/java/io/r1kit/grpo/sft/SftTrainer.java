package io.r1kit.grpo.sft;

import io.r1kit.data.Dataset;
import io.r1kit.data.template.ChatTemplateRenderer;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.NonFiniteStepPolicy;
import io.r1kit.grpo.train.TrainerBuilder;
import io.r1kit.grpo.train.TrainerCheckpoint;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.grpo.train.TrainingLoop;
import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.DType;
import io.r1kit.model.hf.HfCheckpointWriter;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.lora.PeftAdapterFiles;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.optim.LrSchedule;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.CharTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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
 * resumed end with identical weights (tested bit for bit). A checkpoint written with another seed,
 * RNG scheme or train set is refused ({@link TrainerCheckpoint}).
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
    private final TrainerListener listener;
    private final long haltAfterStep;
    private final Consumer<String> log;
    private final boolean saveFinalModel;

    private SftTrainer(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.cfg = b.config;
        this.template = b.template != null ? b.template : PromptTemplates.byName(cfg.template());
        this.chatTemplate = b.chatTemplate;
        TrainerBuilder.RunOptions run = b.options();
        this.outputs = run.outputs();
        this.stage = run.stage();
        this.resume = run.resume();
        this.listener = run.listener();
        this.haltAfterStep = b.haltAfterStep;
        this.log = b.log;
        this.saveFinalModel = b.saveFinalModel;
    }

    public static Builder builder(CausalLM model, Tokenizer tokenizer, SftConfig config) {
        return new Builder(model, tokenizer, config);
    }

    /**
     * The output place (default: none, nothing written), stage, resume and listener come from
     * {@link TrainerBuilder}; the listener sees every metrics line.
     */
    public static final class Builder extends TrainerBuilder<Builder> {
        private final CausalLM model;
        private final Tokenizer tokenizer;
        private final SftConfig config;
        private PromptTemplate template;
        private ChatTemplateRenderer chatTemplate;
        private long haltAfterStep = -1;
        private Consumer<String> log = s -> System.out.println("[sft] " + s);
        private boolean saveFinalModel = true;

        private Builder(CausalLM model, Tokenizer tokenizer, SftConfig config) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            this.config = Objects.requireNonNull(config, "config");
        }

        @Override
        protected Builder self() {
            return this;
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
         * Stops right after step {@code step} (after its eval and checkpoint, if due) as a kill would:
         * no final model; for testing resume. Negative = off.
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

        Run run = new Run(trainEx, evalEx);
        boolean ckptBefore = model.gradientCheckpointing();
        if (cfg.gradientCheckpointing()) model.gradientCheckpointing(true);
        boolean halted;
        try {
            run.open();
            run.logSummary();
            try (MetricsLog metrics = outputs == null ? null : new MetricsLog(outputs.metrics())) {
                run.metrics = metrics;
                halted = !TrainingLoop.run(run, new TrainingLoop.Schedule(run.total, cfg.evalSteps(), cfg.saveSteps()), run.nonFinite,
                        run::lastGood);
            }
        } finally {
            model.gradientCheckpointing(ckptBefore);
        }
        Path modelDir = halted ? null : saveFinalModel();
        Progress p = run.p;
        return new Result(p.step, p.lastTrainLoss, run.lastEval, p.numTokens, p.lastTokensPerSecond, modelDir, halted);
    }

    /** Writes {@code model/} (HF layout, float32, with the tokenizer files) when there is an output place and it is wanted. */
    private Path saveFinalModel() {
        if (outputs == null || !saveFinalModel) return null;
        Path modelDir = outputs.finalModel();
        try {
            saveModel(modelDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model to " + modelDir + ": " + e.getMessage(), e);
        }
        log.accept("saved " + modelDir);
        return modelDir;
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

    static LrSchedule schedule(SftConfig c, long warmup, long total) {
        float lr = c.learningRate().floatValue(), min = c.minLrRatio().floatValue();
        return switch (c.lrScheduler()) {
            case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
            case LINEAR -> LrSchedule.warmupLinear(lr, warmup, total, min);
            case COSINE -> LrSchedule.warmupCosine(lr, warmup, total, min);
        };
    }

    /** Writes the model (float32, HF layout), or with LoRA its adapters (PEFT layout), into {@code dir}. */
    private void saveModel(Path dir) throws IOException {
        if (model.lora() != null) model.save(dir, DType.F32);
        else model.save(dir, writer(DType.F32));
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

    /** Mutable run position (everything a checkpoint must restore besides weights, optimizer and the non-finite counts). */
    private static final class Progress {
        long step, numTokens, consumed;
        long trainExamples, trainTokens;   // fingerprint of the encoded train set: a resume must see the same data
        double windowLoss;
        long windowSteps, windowTokens, windowNanos;
        double lastGradNorm = Double.NaN, lastTrainLoss = Double.NaN, lastTokensPerSecond = Double.NaN;
        float lastLr;
        CausalLM.MoeBalance lastMoe;        // DeepSeekMoE balance of the last step (logged, not checkpointed)
    }

    /** One call of {@link #train}: SFT's part of the step loop over its encoded examples. */
    private final class Run implements TrainingLoop.Steps {
        final List<EncodedExample> trainEx, evalEx;
        final StepPlan plan;
        final long total, warmup;
        final LrSchedule schedule;
        final AdamW opt;
        final TrainerCheckpoint checkpoint;
        final NonFiniteStepPolicy nonFinite = new NonFiniteStepPolicy("sft", cfg.maxNonFiniteSteps(),
                "Lower learning_rate or check the data.");
        final Progress p = new Progress();
        MetricsLog metrics;
        double lastEval = Double.NaN;

        Run(List<EncodedExample> trainEx, List<EncodedExample> evalEx) {
            this.trainEx = trainEx;
            this.evalEx = evalEx;
            this.plan = new StepPlan(SftLoss.lengths(trainEx), cfg);
            this.total = plan.totalSteps();
            this.warmup = cfg.warmupSteps() > 0 ? Math.min(cfg.warmupSteps(), total) : (long) Math.ceil(cfg.warmupRatio() * total);
            this.schedule = schedule(cfg, warmup, total);
            this.opt = new AdamW(new AdamW.Config(cfg.learningRate().floatValue(), cfg.adamBeta1().floatValue(),
                    cfg.adamBeta2().floatValue(), cfg.adamEpsilon().floatValue(), cfg.weightDecay().floatValue()),
                    ParamGroup.decayMatricesOnly(model.trainableParameters(), cfg.weightDecay().floatValue()))
                    .momentsBf16(cfg.adamMoments().equals("bf16"));
            this.checkpoint = outputs == null ? null : new TrainerCheckpoint("sft", outputs, stage, cfg.saveTotalLimit(), cfg.seed(),
                    RNG_SCHEME, TrainerCheckpoint.withLora(cfg.toMap(), model), s -> log.accept("warning: " + s));
            p.trainExamples = trainEx.size();
            p.trainTokens = SftLoss.tokens(trainEx);
        }

        /** Continues from the newest checkpoint when resuming (see {@link TrainerCheckpoint}); nothing without an output place. */
        void open() {
            if (checkpoint == null) return;
            Optional<TrainerCheckpoint.Restored> restored = checkpoint.open(resume);
            restored.ifPresent(this::restore);
            if (resume) checkpoint.dropOutputsAfter(p.step);
            restored.ifPresent(r -> log.accept("resumed from " + r.dir() + " at step " + p.step + "/" + total));
        }

        String lastGood() {
            return checkpoint == null ? null : checkpoint.lastGood();
        }

        void logSummary() {
            long padded = 0;
            for (int s = 0; s < plan.stepsPerEpoch(); s++)
                padded += SftLoss.paddedTokens(SftLoss.select(trainEx, plan.examplesOf(s)), cfg.forwardTokenBudget());
            long real = SftLoss.tokens(trainEx);
            log.accept(String.format("%d train examples (%d tokens, %d loss tokens) in %d sequences; %d steps (%d per epoch), "
                            + "%d warm-up; padding adds %.1f%% compute; %d eval examples; model %s", trainEx.size(), real,
                    SftLoss.lossTokens(trainEx), plan.numSequences(), total, plan.stepsPerEpoch(), warmup,
                    100.0 * (padded - real) / real, evalEx.size(), model));
        }

        @Override
        public long step() {
            return p.step;
        }

        @Override
        public void runStep() {
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
            boolean finite = Double.isFinite(loss) && Double.isFinite(norm);
            nonFinite.record(finite);
            if (!finite) {
                opt.zeroGrad();
                log.accept("step " + (p.step + 1) + ": non-finite loss " + loss + " / grad norm " + norm + ", update skipped");
            } else {
                opt.setLr(lr);
                opt.step();
                opt.zeroGrad();
                if (model.hasMoe()) p.lastMoe = model.updateExpertBias(cfg.biasUpdateSpeed());
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
        }

        /** One line every {@code logging_steps} and at the end: the window's mean loss, the last step's lr and norm. */
        @Override
        public void log(long step) {
            if (step % cfg.loggingSteps() != 0 && step != total) return;
            Map<String, Object> m = line(step);
            m.put("loss", p.windowSteps == 0 ? Double.NaN : p.windowLoss / p.windowSteps);
            m.put("learning_rate", (double) p.lastLr);
            m.put("grad_norm", p.lastGradNorm);
            m.put("num_tokens", p.numTokens);
            m.put("tokens_per_second", p.windowNanos == 0 ? 0.0 : p.windowTokens * 1e9 / p.windowNanos);
            if (p.lastMoe != null) m.putAll(p.lastMoe.metrics());
            if (metrics != null) metrics.write(m);
            log.accept(MetricsLog.toJson(m));
            listener.onStep(step, m);
            p.lastTrainLoss = (Double) m.get("loss");
            p.lastTokensPerSecond = (Double) m.get("tokens_per_second");
            p.windowLoss = 0;
            p.windowSteps = 0;
            p.windowTokens = 0;
            p.windowNanos = 0;
        }

        @Override
        public void evaluate(long step) {
            if (evalEx.isEmpty()) return;
            double l = SftTrainer.this.evaluate(evalEx);
            Map<String, Object> m = line(step);
            m.put("eval/loss", l);
            m.put("eval/num_tokens", SftLoss.lossTokens(evalEx));
            if (metrics != null) metrics.write(m);
            log.accept(MetricsLog.toJson(m));
            lastEval = l;
        }

        @Override
        public void save(long step) {
            if (checkpoint == null) return;
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
            TrainerState st = checkpoint.state(p.step, p.step - nonFinite.total(), p.consumed, nonFinite, p.numTokens, os.scalars(), extra);
            Path dir = checkpoint.save(SftTrainer.this::saveModel, os.tensors(), st);
            log.accept("checkpoint " + dir);
        }

        @Override
        public boolean halt(long step) {
            return step == haltAfterStep;
        }

        private Map<String, Object> line(long step) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (stage != null) m.put("stage", stage);
            m.put("step", step);
            m.put("epoch", (double) step / plan.stepsPerEpoch());
            return m;
        }

        /** Continues from a checkpoint whose seed and RNG scheme {@link TrainerCheckpoint} checked, of the same train set. */
        private void restore(TrainerCheckpoint.Restored r) {
            Path ckpt = r.dir();
            TrainerState st = r.state();
            Double ex = st.extra().get("train_examples"), tok = st.extra().get("train_tokens");
            if (ex != null && tok != null && (ex.longValue() != p.trainExamples || tok.longValue() != p.trainTokens))
                throw new IllegalStateException("cannot resume " + ckpt + ": it was trained on " + ex.longValue() + " examples / "
                        + tok.longValue() + " tokens, this run has " + p.trainExamples + " / " + p.trainTokens
                        + " (a different train set or encoding would change every later batch)");
            try {
                if (model.lora() != null) PeftAdapterFiles.loadParameters(ckpt, model.lora().parameters());
                else model.copyWeightsFrom(CausalLM.load(ckpt));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the model of " + ckpt + ": " + e.getMessage(), e);
            }
            opt.importState(new AdamW.State(TrainerCheckpoint.optimizerTensors(ckpt), st.optimizerScalars()));
            p.step = st.step();
            p.numTokens = st.numTokens();
            p.consumed = st.consumedPrompts();
            nonFinite.restore(st.nonFiniteStreak(), st.nonFiniteSteps());
            p.windowLoss = st.extra().getOrDefault("window_loss", 0.0);
            p.windowSteps = st.extra().getOrDefault("window_steps", 0.0).longValue();
            p.lastGradNorm = st.extra().getOrDefault("last_grad_norm", Double.NaN);
            p.lastLr = st.extra().getOrDefault("last_lr", 0.0).floatValue();
        }
    }
}

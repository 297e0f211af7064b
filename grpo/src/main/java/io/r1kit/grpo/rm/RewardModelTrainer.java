package io.r1kit.grpo.rm;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.train.NonFiniteStepPolicy;
import io.r1kit.grpo.train.TrainerBuilder;
import io.r1kit.grpo.train.TrainerListener;
import io.r1kit.grpo.train.TrainingLoop;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.optim.LrSchedule;
import io.r1kit.model.optim.ParamGroup;
import io.r1kit.model.tensor.Tensor;
import io.r1kit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Trains a {@link RewardModel} on chosen/rejected pairs with the Bradley–Terry loss and reports the
 * held-out pairwise accuracy (share of pairs where the chosen response scores higher).
 *
 * <p>Each step scores {@code batch_size} pairs in ONE forward pass of 2·batch_size rows (chosen rows
 * then rejected rows), so both sides see the same weights. After training the held-out scores'
 * mean and std are stored in the model (config.json) for the reward function's optional
 * normalisation. Output directory: {@code metrics.jsonl} (step, loss, accuracy, margin, lr,
 * grad_norm; a final line with {@code eval/accuracy}, {@code eval/loss}, {@code eval/score_mean},
 * {@code eval/score_std}, {@code eval/pairs}) and {@code model/} (the reward model).
 */
public final class RewardModelTrainer {

    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String MODEL_DIR = "model";

    /** One encoded preference pair. */
    public record Pair(String id, int[] chosen, int[] rejected) {}

    /** Held-out results; {@code chosen[i]}, {@code rejected[i]} are the scores of pair i. */
    public record Evaluation(double accuracy, double loss, int pairs, double scoreMean, double scoreStd, float[] chosen, float[] rejected) {}

    /** What {@link #train} did. {@code modelDir} is null without an output directory. */
    public record Result(long steps, double trainLoss, Evaluation eval, Path modelDir) {}

    private final RewardModel model;
    private final Tokenizer tokenizer;
    private final RewardModelConfig cfg;
    private final PromptTemplate template;
    private final OutputPaths outputs;
    private final String stage;
    private final TrainerListener listener;
    private final Consumer<String> log;

    private RewardModelTrainer(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.cfg = b.config;
        this.template = PromptTemplates.byName(cfg.template());
        TrainerBuilder.RunOptions run = b.options();
        this.outputs = run.outputs();
        this.stage = run.stage();
        this.listener = run.listener();
        this.log = b.log;
    }

    public static Builder builder(RewardModel model, Tokenizer tokenizer, RewardModelConfig config) {
        return new Builder(model, tokenizer, config);
    }

    /**
     * The output place (default: none, nothing written: else {@code metrics.jsonl} and {@code model/}
     * under it), stage and listener come from {@link TrainerBuilder}. The reward model writes no
     * checkpoints, so it cannot resume.
     */
    public static final class Builder extends TrainerBuilder<Builder> {
        private final RewardModel model;
        private final Tokenizer tokenizer;
        private final RewardModelConfig config;
        private Consumer<String> log = s -> {};

        private Builder(RewardModel model, Tokenizer tokenizer, RewardModelConfig config) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
            this.config = Objects.requireNonNull(config, "config");
        }

        @Override
        protected Builder self() {
            return this;
        }

        /** Where progress lines go (default: nowhere). */
        public Builder log(Consumer<String> l) {
            this.log = Objects.requireNonNull(l);
            return this;
        }

        public RewardModelTrainer build() {
            if (options().resume()) throw new IllegalStateException("reward model trainer: resume is not supported (it writes no checkpoints)");
            return new RewardModelTrainer(this);
        }
    }

    /** The text scored for a prompt and a response: {@code render(prompt) + assistantSeparator}. */
    public String promptText(Example e) {
        return template.render(e) + template.assistantSeparator();
    }

    /** Encodes the pairs of a preference dataset; errors name the example and missing column. */
    public List<Pair> encode(Dataset data) {
        List<Pair> out = new ArrayList<>(data.size());
        for (Example e : data) {
            for (String col : List.of(cfg.promptColumn(), cfg.chosenColumn(), cfg.rejectedColumn())) {
                if (!e.has(col)) throw new DatasetException("example '" + e.id() + "': missing column '" + col + "' (a preference pair needs "
                        + cfg.promptColumn() + ", " + cfg.chosenColumn() + ", " + cfg.rejectedColumn() + ")");
            }
            Example forTemplate = cfg.promptColumn().equals("prompt") ? e : e.with("prompt", e.getString(cfg.promptColumn()));
            String p = promptText(forTemplate);
            out.add(new Pair(e.id(), model.encode(tokenizer, p, e.getString(cfg.chosenColumn())),
                    model.encode(tokenizer, p, e.getString(cfg.rejectedColumn()))));
        }
        return out;
    }

    /**
     * Trains on {@code train}; evaluates on {@code eval}, or when it is null on an
     * {@code eval_fraction} split of {@code train} taken after a seeded shuffle.
     */
    public Result train(Dataset train, Dataset eval) {
        if (eval == null && cfg.evalFraction() > 0) {
            Dataset.Split s = train.shuffle(cfg.seed()).splitFraction(cfg.evalFraction());
            train = s.train();
            eval = s.test();
        }
        List<Pair> trainPairs = encode(train);
        List<Pair> evalPairs = eval == null ? List.of() : encode(eval);
        if (trainPairs.isEmpty()) throw new IllegalArgumentException("reward_model: no training pairs");
        Run run = new Run(trainPairs, evalPairs);
        // a non-finite step is skipped and the run goes on (the reward model has no max_non_finite_steps)
        NonFiniteStepPolicy nonFinite = new NonFiniteStepPolicy("reward_model", NonFiniteStepPolicy.UNLIMITED, "");
        run.nonFinite = nonFinite;
        try (MetricsLog metrics = outputs == null ? null : new MetricsLog(outputs.metrics())) {
            run.metrics = metrics;
            TrainingLoop.run(run, new TrainingLoop.Schedule(run.total, 0, 0), nonFinite, () -> null);
        }
        return new Result(run.total, run.lossCount == 0 ? Double.NaN : run.lossSum / run.lossCount, run.ev, run.modelDir);
    }

    /** One call of {@link #train}: a step is one batch of pairs in one forward pass; eval and the model at the end. */
    private final class Run implements TrainingLoop.Steps {
        final List<Pair> evalPairs;
        final int b = cfg.batchSize();
        final long total;
        final LrSchedule schedule;
        final AdamW opt;
        final Random rng = new Random(cfg.seed());
        final List<Pair> order;
        NonFiniteStepPolicy nonFinite;
        MetricsLog metrics;
        long step;
        int pos;
        double lossSum;
        int lossCount;
        double windowLoss, windowAcc, windowMargin;
        int window;
        double lastNorm;
        float lastLr;
        Evaluation ev;
        Path modelDir;

        Run(List<Pair> trainPairs, List<Pair> evalPairs) {
            this.evalPairs = evalPairs;
            long perEpoch = (trainPairs.size() + b - 1) / b;
            this.total = cfg.maxSteps() > 0 ? cfg.maxSteps() : perEpoch * cfg.numTrainEpochs();
            long warmup = Math.round(cfg.warmupRatio() * total);
            float lr = cfg.learningRate().floatValue();
            float min = cfg.minLrRatio().floatValue();
            this.schedule = switch (cfg.lrScheduler()) {
                case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
                case LINEAR -> LrSchedule.warmupLinear(lr, warmup, total, min);
                case COSINE -> LrSchedule.warmupCosine(lr, warmup, total, min);
            };
            this.opt = new AdamW(AdamW.Config.defaults(lr).withWeightDecay(0f),
                    ParamGroup.decayMatricesOnly(model.trainableParameters(), cfg.weightDecay().floatValue()));
            this.order = new ArrayList<>(trainPairs);
            this.pos = order.size();
        }

        @Override
        public long step() {
            return step;
        }

        @Override
        public void runStep() {
            if (pos >= order.size()) {
                Collections.shuffle(order, rng);
                pos = 0;
            }
            List<Pair> batch = order.subList(pos, Math.min(order.size(), pos + b));
            pos += batch.size();
            int n = batch.size();
            List<int[]> rows = new ArrayList<>(2 * n);
            for (Pair p : batch) rows.add(p.chosen());
            for (Pair p : batch) rows.add(p.rejected());
            Tensor r = model.forward(rows);                        // [2n]
            Tensor rc = F.slice(r, 0, 0, n), rr = F.slice(r, 0, n, 2 * n);
            Tensor loss = BradleyTerryLoss.loss(rc, rr, cfg.centerRewardsCoefficient());
            float l = loss.item();
            float[] both = r.toArray();                            // one copy of the 2n scores (on a device: 8n bytes)
            float[] sc = Arrays.copyOfRange(both, 0, n), sr = Arrays.copyOfRange(both, n, 2 * n);
            step++;
            nonFinite.record(Float.isFinite(l));
            if (!Float.isFinite(l)) {
                opt.zeroGrad();
                log.accept("reward_model: step " + step + " has a non-finite loss; skipped");
                return;
            }
            loss.backward();
            lastNorm = cfg.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(opt.params(), cfg.maxGradNorm())
                    : GradClip.globalNorm(opt.params());
            lastLr = schedule.lr(step - 1);
            opt.setLr(lastLr);
            opt.step();
            opt.zeroGrad();
            lossSum += l;
            lossCount++;
            double margin = 0;
            for (int i = 0; i < n; i++) margin += sc[i] - sr[i];
            windowLoss += l;
            windowAcc += BradleyTerryLoss.accuracy(sc, sr);
            windowMargin += margin / n;
            window++;
        }

        /** Every {@code logging_steps} and at the end, after a finite step: the window's means. */
        @Override
        public void log(long s) {
            if (nonFinite.streak() > 0 || (s % cfg.loggingSteps() != 0 && s != total)) return;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s);
            if (stage != null) m.put("stage", stage);
            m.put("loss", windowLoss / window);
            m.put("accuracy", windowAcc / window);
            m.put("margin", windowMargin / window);
            m.put("lr", (double) lastLr);
            m.put("grad_norm", lastNorm);
            write(m);
            listener.onStep(s, m);
            windowLoss = windowAcc = windowMargin = 0;
            window = 0;
        }

        /** The held-out pairs at the end; their score mean and std go into the model for the reward's normalisation. */
        @Override
        public void evaluate(long s) {
            ev = evalPairs.isEmpty() ? null : RewardModelTrainer.this.evaluate(evalPairs);
            if (ev == null) return;
            model.setScoreStats(ev.scoreMean(), ev.scoreStd());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", s);
            if (stage != null) m.put("stage", stage);
            m.put("eval/accuracy", ev.accuracy());
            m.put("eval/loss", ev.loss());
            m.put("eval/score_mean", ev.scoreMean());
            m.put("eval/score_std", ev.scoreStd());
            m.put("eval/pairs", ev.pairs());
            write(m);
        }

        /** The trained model, at the end only (the reward model writes no checkpoints). */
        @Override
        public void save(long s) {
            if (outputs == null) return;
            modelDir = outputs.finalModel();
            try {
                model.save(modelDir);
            } catch (IOException e) {
                throw new UncheckedIOException("reward_model: cannot save the model under " + modelDir, e);
            }
        }

        private void write(Map<String, Object> m) {
            if (metrics != null) metrics.write(m);
            log.accept("reward_model " + MetricsLog.toJson(m));
        }
    }

    /** Scores held-out pairs (no grad): pairwise accuracy, mean Bradley–Terry loss, score mean/std over both sides. */
    public Evaluation evaluate(List<Pair> pairs) {
        List<int[]> rows = new ArrayList<>(2 * pairs.size());
        for (Pair p : pairs) rows.add(p.chosen());
        for (Pair p : pairs) rows.add(p.rejected());
        float[] s = model.score(rows, cfg.evalBatchSize());
        int n = pairs.size();
        float[] c = Arrays.copyOfRange(s, 0, n), r = Arrays.copyOfRange(s, n, 2 * n);
        double loss = 0, sum = 0, sq = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) c[i] - r[i];
            loss += d >= 0 ? Math.log1p(Math.exp(-d)) : -d + Math.log1p(Math.exp(d));   // −log σ(d), stable
        }
        for (float v : s) sum += v;
        double mean = sum / s.length;
        for (float v : s) sq += (v - mean) * (v - mean);
        return new Evaluation(BradleyTerryLoss.accuracy(c, r), loss / n, n, mean, Math.sqrt(sq / s.length), c, r);
    }
}

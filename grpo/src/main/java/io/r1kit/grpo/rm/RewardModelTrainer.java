package io.r1kit.grpo.rm;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import io.r1kit.data.template.PromptTemplate;
import io.r1kit.data.template.PromptTemplates;
import io.r1kit.grpo.metrics.MetricsLog;
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
    private Path outputDir;
    private Consumer<String> log = s -> {};

    public RewardModelTrainer(RewardModel model, Tokenizer tokenizer, RewardModelConfig cfg) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.cfg = cfg;
        this.template = PromptTemplates.byName(cfg.template());
    }

    /** Where metrics and the trained model go (nothing is written without it). */
    public RewardModelTrainer outputDir(Path dir) {
        this.outputDir = dir;
        return this;
    }

    public RewardModelTrainer log(Consumer<String> l) {
        this.log = l;
        return this;
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

        int b = cfg.batchSize();
        long perEpoch = (trainPairs.size() + b - 1) / b;
        long total = cfg.maxSteps() > 0 ? cfg.maxSteps() : perEpoch * cfg.numTrainEpochs();
        long warmup = Math.round(cfg.warmupRatio() * total);
        float lr = cfg.learningRate().floatValue();
        float min = cfg.minLrRatio().floatValue();
        LrSchedule schedule = switch (cfg.lrScheduler()) {
            case CONSTANT -> LrSchedule.warmupConstant(lr, warmup);
            case LINEAR -> LrSchedule.warmupLinear(lr, warmup, total, min);
            case COSINE -> LrSchedule.warmupCosine(lr, warmup, total, min);
        };
        AdamW opt = new AdamW(AdamW.Config.defaults(lr).withWeightDecay(0f),
                ParamGroup.decayMatricesOnly(model.trainableParameters(), cfg.weightDecay().floatValue()));

        MetricsLog metrics = outputDir == null ? null : new MetricsLog(outputDir.resolve(METRICS_FILE));
        Random rng = new Random(cfg.seed());
        List<Pair> order = new ArrayList<>(trainPairs);
        int pos = order.size();
        double lossSum = 0;
        int lossCount = 0;
        double windowLoss = 0, windowAcc = 0, windowMargin = 0;
        int window = 0;
        try {
            for (long step = 0; step < total; step++) {
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
                if (!Float.isFinite(l)) {
                    opt.zeroGrad();
                    log.accept("reward_model: step " + (step + 1) + " has a non-finite loss; skipped");
                    continue;
                }
                loss.backward();
                double norm = cfg.maxGradNorm() > 0 ? GradClip.clipGlobalNorm(opt.params(), cfg.maxGradNorm())
                        : GradClip.globalNorm(opt.params());
                float stepLr = schedule.lr(step);
                opt.setLr(stepLr);
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
                if ((step + 1) % cfg.loggingSteps() == 0 || step + 1 == total) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("step", step + 1);
                    m.put("loss", windowLoss / window);
                    m.put("accuracy", windowAcc / window);
                    m.put("margin", windowMargin / window);
                    m.put("lr", (double) stepLr);
                    m.put("grad_norm", norm);
                    if (metrics != null) metrics.write(m);
                    log.accept("reward_model " + MetricsLog.toJson(m));
                    windowLoss = windowAcc = windowMargin = 0;
                    window = 0;
                }
            }
            Evaluation ev = evalPairs.isEmpty() ? null : evaluate(evalPairs);
            if (ev != null) {
                model.setScoreStats(ev.scoreMean(), ev.scoreStd());
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("step", total);
                m.put("eval/accuracy", ev.accuracy());
                m.put("eval/loss", ev.loss());
                m.put("eval/score_mean", ev.scoreMean());
                m.put("eval/score_std", ev.scoreStd());
                m.put("eval/pairs", ev.pairs());
                if (metrics != null) metrics.write(m);
                log.accept("reward_model " + MetricsLog.toJson(m));
            }
            Path modelDir = null;
            if (outputDir != null) {
                modelDir = outputDir.resolve(MODEL_DIR);
                model.save(modelDir);
            }
            return new Result(total, lossCount == 0 ? Double.NaN : lossSum / lossCount, ev, modelDir);
        } catch (IOException e) {
            throw new UncheckedIOException("reward_model: cannot save the model under " + outputDir, e);
        } finally {
            if (metrics != null) metrics.close();
        }
    }

    /** Scores held-out pairs (no grad): pairwise accuracy, mean Bradley–Terry loss, score mean/std over both sides. */
    public Evaluation evaluate(List<Pair> pairs) {
        List<int[]> rows = new ArrayList<>(2 * pairs.size());
        for (Pair p : pairs) rows.add(p.chosen());
        for (Pair p : pairs) rows.add(p.rejected());
        float[] s = model.score(rows, cfg.evalBatchSize());
        int n = pairs.size();
        float[] c = java.util.Arrays.copyOfRange(s, 0, n), r = java.util.Arrays.copyOfRange(s, n, 2 * n);
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

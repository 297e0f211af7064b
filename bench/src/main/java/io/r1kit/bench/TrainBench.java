package io.r1kit.bench;

import ai.djl.ndarray.NDManager;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code bench --suite train}: one full training step (forward, mean cross-entropy over the whole
 * vocabulary, backward, global-norm clipping to 1.0, AdamW) of the same randomly initialised model
 * in r1kit and in libtorch ({@link TorchLlama}), same shapes and threads, side by side.
 */
final class TrainBench {
    /** Learning rate of the timed steps (AdamW, weight decay 0.01, torch's betas and eps). */
    static final float LR = 1e-3f, WEIGHT_DECAY = 0.01f;
    static final double MAX_GRAD_NORM = 1.0;

    /** One benchmarked model and batch shape; {@code note} says how it differs from the full model. */
    record Case(String model, ModelConfig config, int batch, int seqLen, String note) {}

    /**
     * @param r1kitLosses    r1kit's losses of its first steps (before any timing), from the same weights and data as
     * @param libtorchLosses libtorch's, step by step
     * @param r1kitPhaseMs   milliseconds of forward + loss, backward, clipping and AdamW in r1kit's last timed step
     * @param libtorchPhaseMs the same for libtorch's last timed step
     */
    record Row(Case c, long params, SideBySideTimer.Result r, List<Double> r1kitLosses, List<Double> libtorchLosses,
               double[] r1kitPhaseMs, double[] libtorchPhaseMs) {
        double tokens() { return (double) c.batch() * c.seqLen(); }
        double r1kitTokensPerSec() { return tokens() / (r.r1kitMs() / 1e3); }
        double libtorchTokensPerSec() { return tokens() / (r.libtorchMs() / 1e3); }
        double ratio() { return r1kitTokensPerSec() / libtorchTokensPerSec(); }
    }

    /** The quickstart's model (configs/quickstart.yaml: llama, hidden 96, FFN 256, 4 layers, 4 heads, tied) at its pretrain shape (8 × 256). */
    static Case toy() {
        return new Case("quickstart-toy", ModelConfig.llama(TOY_VOCAB, 96, 256, 4, 4, 4).withTieEmbeddings(true), 8, 256,
                "vocab " + TOY_VOCAB + " stands in for the char tokenizer's alphabet");
    }

    /** Vocabulary of the toy case: the quickstart's char tokenizer has a few dozen symbols. */
    static final int TOY_VOCAB = 64;

    /** Qwen2.5-0.5B's shape (hidden 896, 14/2 heads, FFN 4864, vocab 151936, tied) with {@code layers} layers. */
    static ModelConfig qwen05b(int layers) {
        return ModelConfig.qwen2(151936, 896, 4864, layers, 14, 2).withTieEmbeddings(true);
    }

    static List<Case> cases(boolean quick) {
        List<Case> cs = new ArrayList<>();
        cs.add(toy());
        if (quick) {
            cs.add(new Case("qwen2.5-0.5b-shape-4-layers", qwen05b(4), 1, 128,
                    "--quick: 4 of Qwen2.5-0.5B's 24 layers, same width and vocabulary"));
        } else {
            cs.add(new Case("qwen2.5-0.5b-shape", qwen05b(24), 2, 256, "all 24 layers"));
        }
        return cs;
    }

    /** Tiny shapes for tests: one Llama, one Qwen2 (q/k/v biases, grouped-query attention). */
    static List<Case> tinyCases() {
        return List.of(
                new Case("tiny-llama", ModelConfig.llama(48, 32, 64, 2, 4, 4).withTieEmbeddings(true), 2, 12, "test shape"),
                new Case("tiny-qwen2", ModelConfig.qwen2(50, 32, 64, 2, 4, 2), 2, 12, "test shape, untied"));
    }

    /** r1kit's side: the same step as the sft/pretrain trainers take (scoreTokens' fused lm head + log-softmax). */
    static final class R1kitStep {
        final CausalLM model;
        final AdamW opt;
        final List<Parameter> params;
        final int[] ids, targets, pos;
        final int B, T;

        R1kitStep(CausalLM model, int[] ids, int[] targets, int B, int T) {
            this.model = model;
            this.params = model.parameters();
            this.opt = new AdamW(params, AdamW.Config.defaults(LR).withWeightDecay(WEIGHT_DECAY));
            this.ids = ids;
            this.targets = targets;
            this.B = B;
            this.T = T;
            this.pos = new int[B * T];
            for (int i = 0; i < B * T; i++) pos[i] = i % T;
        }

        /** Milliseconds of the last step's phases: forward + loss, backward, clipping, AdamW. */
        final double[] phaseMs = new double[4];

        double step() {
            long t0 = System.nanoTime();
            opt.zeroGrad();
            Tensor lp = model.scoreTokens(ids, B, T, pos, null, targets, 1f, false).logprobs();
            Tensor loss = F.scale(F.sum(lp), -1f / (B * T));
            long t1 = System.nanoTime();
            loss.backward();
            long t2 = System.nanoTime();
            GradClip.clipGlobalNorm(params, MAX_GRAD_NORM);
            long t3 = System.nanoTime();
            opt.step();
            long t4 = System.nanoTime();
            phaseMs[0] = (t1 - t0) / 1e6;
            phaseMs[1] = (t2 - t1) / 1e6;
            phaseMs[2] = (t3 - t2) / 1e6;
            phaseMs[3] = (t4 - t3) / 1e6;
            return loss.item();
        }
    }

    /** r1kit's weights by Hugging Face name (copied into libtorch tensors by {@link TorchLlama}). */
    static Map<String, float[]> weights(CausalLM m) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Parameter p : m.parameters()) w.put(p.name(), p.data());
        return w;
    }

    /** B sequences of T+1 random tokens: ids are the first T of each, targets the last T. */
    static int[][] data(int vocab, int B, int T, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[B * T], tg = new int[B * T];
        for (int b = 0; b < B; b++) {
            int prev = r.nextInt(vocab);
            for (int t = 0; t < T; t++) {
                int next = r.nextInt(vocab);
                ids[b * T + t] = prev;
                tg[b * T + t] = next;
                prev = next;
            }
        }
        return new int[][] {ids, tg};
    }

    /**
     * Builds both sides from one random r1kit model, takes {@code checkSteps} untimed steps on each
     * (their losses are returned for comparison: same weights, same data), then times steps side
     * by side with {@code timer}.
     */
    static Row run(Case c, NDManager nd, SideBySideTimer timer, int checkSteps, PrintStream log) throws Exception {
        CausalLM model = CausalLM.random(c.config(), 1);
        int[][] d = data(c.config().vocabSize(), c.batch(), c.seqLen(), 2);
        long params = c.config().parameterCount();
        try (TorchLlama torch = new TorchLlama(nd, c.config(), weights(model))) {
            R1kitStep ours = new R1kitStep(model, d[0], d[1], c.batch(), c.seqLen());
            List<Double> a = new ArrayList<>(), b = new ArrayList<>();
            for (int i = 0; i < checkSteps; i++) {
                a.add(ours.step());
                b.add(torch.trainStep(d[0], d[1], c.batch(), c.seqLen(), LR, WEIGHT_DECAY, MAX_GRAD_NORM));
            }
            log.printf("train %s: first losses r1kit %s libtorch %s%n", c.model(), a, b);
            SideBySideTimer.Result r = timer.time(ours::step,
                    () -> torch.trainStep(d[0], d[1], c.batch(), c.seqLen(), LR, WEIGHT_DECAY, MAX_GRAD_NORM));
            return new Row(c, params, r, a, b, ours.phaseMs.clone(), torch.phaseMs().clone());
        }
    }
}

package io.r1kit.bench;

import ai.djl.ndarray.NDManager;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.generate.Completion;
import io.r1kit.model.generate.Generator;
import io.r1kit.model.generate.SamplingParams;
import io.r1kit.model.tensor.Parameter;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

/**
 * {@code bench --suite rollout}: greedy decoding with a KV cache, r1kit's {@link Generator} (the
 * rollout path of the GRPO trainers) against {@link TorchLlama#greedy} (libtorch, its own
 * preallocated cache), same model, same prompts, same threads, side by side.
 *
 * <p>Two rates per side: end to end (new tokens / time of prefill + all decode steps), the
 * {@code *_tokens_per_s} of the JSON, and decode steps alone, from the difference between a run
 * of N new tokens and one of 1 new token (N−1 decode steps). The roofline fraction is the
 * decode-only rate times the bytes a decode step reads per row (all weights once, the lm head in
 * full, plus the row's k/v cache at its mean length) divided by the measured read bandwidth.
 */
final class RolloutBench {
    /** One model and shape; {@code batches} are decoded one after the other. */
    record Case(String model, ModelConfig config, int prompt, int newTokens, List<Integer> batches, String note) {}

    /** One batch size measured; {@code oneToken} (prefill + 1 token) is null where it was not timed. */
    record Row(Case c, int batch, SideBySideTimer.Result full, SideBySideTimer.Result oneToken, double bytesPerToken,
               double bandwidthGBs, int tokensCompared, int tokensEqual) {
        double r1kitTokensPerSec() { return (double) batch * c.newTokens() / (full.r1kitMs() / 1e3); }
        double libtorchTokensPerSec() { return (double) batch * c.newTokens() / (full.libtorchMs() / 1e3); }
        /** Decode steps only: (N−1) steps of {@code batch} rows in the time a run of N adds over a run of 1. */
        double r1kitDecodeTokensPerSec() { return oneToken == null ? Double.NaN : decodeRate(full.r1kitMs(), oneToken.r1kitMs()); }
        double libtorchDecodeTokensPerSec() { return oneToken == null ? Double.NaN : decodeRate(full.libtorchMs(), oneToken.libtorchMs()); }
        private double decodeRate(double fullMs, double oneMs) {
            return (double) batch * (c.newTokens() - 1) / (Math.max(1e-9, fullMs - oneMs) / 1e3);
        }
        /** Batch 1: achieved bytes/s of weights and cache at the decode-only rate, over the bandwidth. */
        double rooflineFraction() { return r1kitDecodeTokensPerSec() * bytesPerToken / (bandwidthGBs * 1e9); }
    }

    /** Batches from this size on are not split into prefill and decode (a prefill of 64 prompts alone takes minutes here). */
    static final int SPLIT_BELOW = 64;

    static List<Case> cases(boolean quick) {
        if (quick) {
            return List.of(new Case("qwen2.5-0.5b-shape-4-layers", TrainBench.qwen05b(4), 64, 32, List.of(1, 8, 64),
                    "--quick: 4 of Qwen2.5-0.5B's 24 layers (same width and vocabulary), prompt 64, 32 new tokens"));
        }
        return List.of(new Case("qwen2.5-0.5b-shape", TrainBench.qwen05b(24), 128, 128, List.of(1, 8, 64),
                "all 24 layers, prompt 128, 128 new tokens"));
    }

    /** A tiny shape for tests. */
    static List<Case> tinyCases() {
        return List.of(new Case("tiny-qwen2", ModelConfig.qwen2(50, 32, 64, 2, 4, 2).withTieEmbeddings(true), 6, 5,
                List.of(1, 3), "test shape"));
    }

    /**
     * Bytes one decode step reads per row at batch 1: every weight once in fp32 (the lm head in full;
     * of an untied input embedding only one row, left out), plus the k/v cache of all layers at its
     * mean length over the decode steps (prompt + newTokens/2).
     */
    static double bytesPerToken(CausalLM model, int prompt, int newTokens) {
        ModelConfig c = model.config();
        long w = 0;
        for (Parameter p : model.parameters()) w += p.numel();
        if (!c.tieEmbeddings()) w -= (long) c.vocabSize() * c.hiddenSize();
        double meanLen = prompt + newTokens / 2.0;
        double cache = 2.0 * c.numLayers() * meanLen * c.numKvHeads() * c.headDim();
        return 4.0 * (w + cache);
    }

    /** Random prompts [batch][prompt] (the same for both sides). */
    static List<int[]> prompts(int vocab, int batch, int prompt, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> ps = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            int[] p = new int[prompt];
            for (int i = 0; i < prompt; i++) p[i] = r.nextInt(vocab);
            ps.add(p);
        }
        return ps;
    }

    /** r1kit's greedy tokens, [batch × newTokens] row-major. */
    static int[] r1kitGreedy(Generator g, List<int[]> prompts, int newTokens) {
        List<Completion> out = g.generate(prompts, SamplingParams.greedy(newTokens).withIgnoreEos(true));
        int[] ids = new int[prompts.size() * newTokens];
        for (int i = 0; i < out.size(); i++) {
            int[] t = out.get(i).tokens();
            if (t.length != newTokens) throw new IllegalStateException("r1kit returned " + t.length + " tokens for row " + i + ", expected " + newTokens);
            System.arraycopy(t, 0, ids, i * newTokens, newTokens);
        }
        return ids;
    }

    static int[] flat(List<int[]> prompts) {
        int P = prompts.get(0).length;
        int[] f = new int[prompts.size() * P];
        for (int i = 0; i < prompts.size(); i++) System.arraycopy(prompts.get(i), 0, f, i * P, P);
        return f;
    }

    /**
     * Measures every batch of c: both sides' greedy tokens compared once (which also warms both
     * up), then timed side by side with {@code timerFor(batch)}. Runs of prefill + 1 token, for the
     * decode-only rates, are timed for batches below {@link #SPLIT_BELOW}.
     */
    static List<Row> run(Case c, NDManager nd, IntFunction<SideBySideTimer> timerFor, IntPredicate batchFilter, double bandwidthGBs,
                         PrintStream log) throws Exception {
        ModelConfig cfg = c.config().withRope(c.config().ropeTheta(), c.config().ropeScaling(),
                Math.max(c.config().maxPositions(), c.prompt() + c.newTokens()));
        CausalLM model = CausalLM.random(cfg, 3);
        double bytes = bytesPerToken(model, c.prompt(), c.newTokens());
        List<Row> rows = new ArrayList<>();
        try (TorchLlama torch = new TorchLlama(nd, cfg, TrainBench.weights(model))) {
            for (int batch : c.batches()) {
                if (!batchFilter.test(batch)) continue;
                List<int[]> ps = prompts(cfg.vocabSize(), batch, c.prompt(), 10 + batch);
                int[] flat = flat(ps);
                Generator g = new Generator(model).maxBatchRows(Math.max(64, batch));
                int N = c.newTokens(), P = c.prompt();
                int[] ours = r1kitGreedy(g, ps, N), theirs = torch.greedy(flat, batch, P, N);
                int equal = 0;
                for (int i = 0; i < ours.length; i++) if (ours[i] == theirs[i]) equal++;
                SideBySideTimer timer = timerFor.apply(batch);
                SideBySideTimer.Result full = timer.time(() -> r1kitGreedy(g, ps, N), () -> torch.greedy(flat, batch, P, N));
                SideBySideTimer.Result one = batch < SPLIT_BELOW
                        ? timer.time(() -> r1kitGreedy(g, ps, 1), () -> torch.greedy(flat, batch, P, 1)) : null;
                Row row = new Row(c, batch, full, one, bytes, bandwidthGBs, ours.length, equal);
                log.printf("rollout %s batch %d: r1kit %.1f tok/s (decode %.1f), libtorch %.1f tok/s (decode %.1f), "
                                + "%s, greedy tokens equal %d/%d%n", c.model(), batch, row.r1kitTokensPerSec(),
                        row.r1kitDecodeTokensPerSec(), row.libtorchTokensPerSec(), row.libtorchDecodeTokensPerSec(),
                        batch == 1 ? String.format(Locale.ROOT, "roofline %.3f", row.rooflineFraction()) : "no roofline (batch > 1)", equal, ours.length);
                rows.add(row);
            }
        }
        return rows;
    }
}

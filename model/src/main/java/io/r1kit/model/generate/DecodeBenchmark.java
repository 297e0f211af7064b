package io.r1kit.model.generate;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.backend.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Decode throughput of the KV-cached generation path on a ~10M-parameter random Llama-style model
 * (vocab 16384, hidden 256, 8 layers, 8 heads / 4 kv heads, FFN 768, tied embeddings).
 *
 * <p>Two numbers per batch size: the model's decode step alone (one token per row per step over
 * a cache already holding {@code promptTokens}, after warm-up) and, for the batch-32 case, the
 * end-to-end {@link Generator} rate (prefill, sampling at temperature 1, KV cache copies), which is
 * what GRPO rollouts see. Called by {@code r1kit bench}.
 */
public final class DecodeBenchmark {
    private DecodeBenchmark() {}

    /**
     * @param parameters            model parameters
     * @param promptTokens          tokens in the cache before the timed steps
     * @param newTokens             timed steps per row
     * @param batch1TokensPerSec    decode-step tokens/s with 1 row
     * @param batch32TokensPerSec   decode-step tokens/s with 32 rows (32 tokens per step)
     * @param batch32EndToEndTokensPerSec Generator tokens/s for 4 prompts × 8 samples (prefill + sampling included)
     * @param backend               backend name
     * @param threads               worker threads of the CPU pool
     */
    public record Result(long parameters, int promptTokens, int newTokens, double batch1TokensPerSec,
                         double batch32TokensPerSec, double batch32EndToEndTokensPerSec, String backend, int threads) {
        @Override
        public String toString() {
            return String.format("decode (%,d params, %s, %d threads, prompt %d, %d new): batch 1 %.1f tok/s, batch 32 %.1f tok/s, "
                            + "batch 32 end-to-end %.1f tok/s", parameters, backend, threads, promptTokens, newTokens,
                    batch1TokensPerSec, batch32TokensPerSec, batch32EndToEndTokensPerSec);
        }
    }

    /** The benchmark model's config (~10.5M parameters). */
    public static ModelConfig config() {
        return ModelConfig.llama(16384, 256, 768, 8, 8, 4).withTieEmbeddings(true);
    }

    /** Default run: 32-token prompts, 64 timed tokens per row. Takes a few seconds. */
    public static Result run() {
        return run(32, 64);
    }

    public static Result run(int promptTokens, int newTokens) {
        CausalLM model = CausalLM.random(config(), 1);
        try (var ng = Grad.noGrad()) {
            // warm-up: JIT the decode path at both batch sizes
            stepRate(model, 1, 8, 16);
            stepRate(model, 32, 8, 8);
            double b1 = stepRate(model, 1, promptTokens, newTokens);
            double b32 = stepRate(model, 32, promptTokens, newTokens);
            double e2e = endToEnd(model, promptTokens, newTokens);
            return new Result(model.config().parameterCount(), promptTokens, newTokens, b1, b32, e2e,
                    Backends.current().name(), Parallel.threads());
        }
    }

    /** Tokens/s of {@code steps} decode steps on {@code rows} rows whose caches hold {@code prompt} tokens. */
    static double stepRate(CausalLM model, int rows, int prompt, int steps) {
        ModelConfig c = model.config();
        KvCache cache = new KvCache(c, rows);
        for (int r = 0; r < rows; r++) cache.allocate(r, prompt + steps);
        DecodeStep step = new DecodeStep(model, rows);
        int[] live = new int[rows], tok = new int[rows];
        SplittableRandom rng = new SplittableRandom(7);
        for (int r = 0; r < rows; r++) live[r] = r;
        for (int t = 0; t < prompt; t++) {   // fill the caches (not timed)
            for (int r = 0; r < rows; r++) tok[r] = rng.nextInt(c.vocabSize());
            step.step(cache, live, tok, rows);
        }
        long t0 = System.nanoTime();
        for (int t = 0; t < steps; t++) {
            float[] logits = step.step(cache, live, tok, rows);
            for (int r = 0; r < rows; r++) {   // greedy feedback, so the work depends on the logits
                int best = 0, off = r * c.vocabSize();
                for (int v = 1; v < c.vocabSize(); v++) if (logits[off + v] > logits[off + best]) best = v;
                tok[r] = best;
            }
        }
        return (double) rows * steps / ((System.nanoTime() - t0) / 1e9);
    }

    static double endToEnd(CausalLM model, int prompt, int steps) {
        List<int[]> prompts = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(9);
        for (int p = 0; p < 4; p++) {
            int[] ids = new int[prompt];
            for (int i = 0; i < prompt; i++) ids[i] = rng.nextInt(model.config().vocabSize());
            prompts.add(ids);
        }
        Generator g = new Generator(model);
        SamplingParams sp = SamplingParams.sample(1f, steps, 3).withIgnoreEos(true);
        g.generate(prompts, 8, sp.withSeed(4));   // warm-up (JIT of prefill, sampling, decode at every live-row count)
        long t0 = System.nanoTime();
        List<Completion> out = g.generate(prompts, 8, sp);
        long tokens = out.stream().mapToLong(Completion::length).sum();
        return tokens / ((System.nanoTime() - t0) / 1e9);
    }

    public static void main(String[] args) {
        System.out.println(run());
    }
}

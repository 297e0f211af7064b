package io.r1kit.model.generate;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.autograd.Grad;
import io.r1kit.model.backend.Parallel;
import io.r1kit.model.tensor.Backends;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

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

    /**
     * One row of {@code decode_precision}: decode-step tokens/s with the projections reading
     * {@code weights}, and the weight bytes read per generated token (a step's bytes / batch).
     */
    public record PrecisionRow(String weights, int batch, double tokensPerSec, double weightBytesPerToken) {}

    /** The decode_precision model: Qwen2.5-0.5B's width (hidden 896, FFN 4864, 14/2 heads) with 6 layers and a 32k vocab (~118M parameters). */
    public static ModelConfig precisionConfig() {
        return ModelConfig.qwen2(32000, 896, 4864, 6, 14, 2).withTieEmbeddings(true);
    }

    /**
     * Decode-step rates of {@link #precisionConfig()} with fp32, bf16 and fp8 projection weights at
     * batch 1 and 32 (prompt {@code promptTokens} in the cache, {@code newTokens} timed steps).
     */
    public static List<PrecisionRow> precisionRows(int promptTokens, int newTokens) {
        CausalLM model = CausalLM.random(precisionConfig(), 1);
        List<PrecisionRow> out = new ArrayList<>();
        try (var ng = Grad.noGrad()) {
            for (DecodePrecision p : DecodePrecision.values()) {
                DecodeStep one = new DecodeStep(model, 1, p), many = new DecodeStep(model, 32, p);
                stepRate(model, one, 1, 4, 4);   // warm-up
                stepRate(model, many, 32, 4, 2);
                long bytes = one.weightBytesPerStep();
                out.add(new PrecisionRow(p.yamlName(), 1, stepRate(model, one, 1, promptTokens, newTokens), bytes));
                out.add(new PrecisionRow(p.yamlName(), 32, stepRate(model, many, 32, promptTokens, Math.max(2, newTokens / 4)), bytes / 32.0));
            }
        }
        return out;
    }

    /**
     * Sustained read bandwidth of main memory in GB/s: all worker threads summing disjoint parts of a
     * 512 MiB array (far beyond the caches), best of 5 passes.
     */
    public static double memoryBandwidthGBs() {
        float[] a = new float[128 << 20];
        for (int i = 0; i < a.length; i += 1024) a[i] = i;
        double best = 0;
        int parts = Math.max(1, Parallel.threads());
        float[] sink = new float[parts];
        for (int pass = 0; pass < 5; pass++) {
            long t0 = System.nanoTime();
            Parallel.forRange(parts, 1, (p0, p1) -> {
                for (int p = p0; p < p1; p++) {
                    int from = (int) ((long) a.length * p / parts), to = (int) ((long) a.length * (p + 1) / parts);
                    FloatVector acc = FloatVector.zero(FloatVector.SPECIES_PREFERRED);
                    int step = acc.length();
                    for (int i = from; i + step <= to; i += step) {
                        acc = acc.add(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, a, i));
                    }
                    sink[p] += acc.lane(0);
                }
            });
            best = Math.max(best, 4.0 * a.length / ((System.nanoTime() - t0) / 1e9) / 1e9);
        }
        if (Float.isNaN(sink[0])) throw new AssertionError(); // keeps the sums live
        return best;
    }

    /** Tokens/s of {@code steps} decode steps on {@code rows} rows whose caches hold {@code prompt} tokens. */
    static double stepRate(CausalLM model, int rows, int prompt, int steps) {
        return stepRate(model, new DecodeStep(model, rows), rows, prompt, steps);
    }

    static double stepRate(CausalLM model, DecodeStep step, int rows, int prompt, int steps) {
        ModelConfig c = model.config();
        KvCache cache = new KvCache(c, rows);
        for (int r = 0; r < rows; r++) cache.allocate(r, prompt + steps);
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

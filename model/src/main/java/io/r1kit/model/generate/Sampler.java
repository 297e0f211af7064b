package io.r1kit.model.generate;

import io.r1kit.model.backend.TokenSampler;

import java.util.random.RandomGenerator;

/**
 * Draws one token from one row of logits according to {@link SamplingParams} and reports its
 * log-probability: the {@link TokenSampler} kernel (whose comment has the math) fed the settings.
 * Holds O(V) scratch, reused across calls: one Sampler per thread. Draws exactly one
 * {@code nextDouble()} per non-greedy token and none when greedy.
 */
public final class Sampler {
    private final TokenSampler kernel;

    public Sampler(int vocab) {
        this.kernel = new TokenSampler(vocab);
    }

    /** Samples from logits[off, off+V); writes the token's log-prob to lp[lpIdx]; returns the token. */
    public int sample(float[] logits, int off, SamplingParams p, RandomGenerator rng, float[] lp, int lpIdx) {
        return kernel.sample(logits, off, p.temperature(), p.topK(), p.topP(), p.minP(), p.logprobMode().ordinal(), rng, lp, lpIdx);
    }

    /** The k-th largest value of a[0..n) (1-based k); reorders a. */
    static float kthLargest(float[] a, int n, int k) {
        return TokenSampler.kthLargest(a, n, k);
    }
}

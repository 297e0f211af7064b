package io.r1kit.model.generate;

import java.util.List;
import java.util.Set;

/**
 * How to sample. Processing order (transformers' and vLLM's): logits / temperature, then top-k, then
 * top-p (nucleus: the smallest set of most likely tokens whose mass reaches topP, the crossing token
 * included), then min-p (drop tokens with p &lt; minP · p_max); the survivors are renormalised and one is
 * drawn. Temperature 0 means greedy (argmax; ties → lowest id).
 *
 * @param temperature   0 = greedy, else &gt; 0
 * @param topK          0 (or ≥ V) = off; ties with the k-th logit are kept, as in transformers
 * @param topP          1 = off, else in (0, 1]
 * @param minP          0 = off, else in [0, 1]
 * @param maxNewTokens  at most this many generated tokens per completion (≥ 1)
 * @param stopTokenIds  extra ids that end a completion (the model's / tokenizer's EOS ids are added unless ignoreEos)
 * @param stopStrings   strings that end a completion once the decoded completion contains them (needs a decoder)
 * @param ignoreEos     do not stop at the EOS ids (benchmarks)
 * @param seed          sampling is deterministic given the seed: completion i of prompt p uses its own
 *                      stream derived from (seed, p·n + i), independent of batching
 * @param logprobMode   which distribution the returned log-probs are taken under (see {@link LogprobMode});
 *                      greedy decoding always returns the RAW (temperature-1) log-probs
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, int maxNewTokens,
                             Set<Integer> stopTokenIds, List<String> stopStrings, boolean ignoreEos, long seed,
                             LogprobMode logprobMode) {

    public SamplingParams {
        if (!(temperature >= 0) || Float.isInfinite(temperature))
            throw new IllegalArgumentException("SamplingParams: temperature must be >= 0 and finite, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("SamplingParams: topK must be >= 0, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("SamplingParams: topP must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("SamplingParams: minP must be in [0, 1], got " + minP);
        if (maxNewTokens < 1) throw new IllegalArgumentException("SamplingParams: maxNewTokens must be >= 1, got " + maxNewTokens);
        stopTokenIds = stopTokenIds == null ? Set.of() : Set.copyOf(stopTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("SamplingParams: empty stop string");
        if (logprobMode == null) logprobMode = LogprobMode.PROCESSED;
    }

    /** Plain sampling at {@code temperature} (no truncation), processed log-probs. */
    public static SamplingParams sample(float temperature, int maxNewTokens, long seed) {
        return new SamplingParams(temperature, 0, 1f, 0f, maxNewTokens, Set.of(), List.of(), false, seed, LogprobMode.PROCESSED);
    }

    /** Greedy decoding. */
    public static SamplingParams greedy(int maxNewTokens) {
        return sample(0f, maxNewTokens, 0L);
    }

    public boolean greedy() {
        return temperature == 0f;
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed, logprobMode);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, minP, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed, logprobMode);
    }

    public SamplingParams withMinP(float p) {
        return new SamplingParams(temperature, topK, topP, p, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed, logprobMode);
    }

    public SamplingParams withStopTokenIds(Set<Integer> ids) {
        return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, ids, stopStrings, ignoreEos, seed, logprobMode);
    }

    public SamplingParams withStopStrings(List<String> s) {
        return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, stopTokenIds, s, ignoreEos, seed, logprobMode);
    }

    public SamplingParams withIgnoreEos(boolean ignore) {
        return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, stopTokenIds, stopStrings, ignore, seed, logprobMode);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, s, logprobMode);
    }

    public SamplingParams withLogprobMode(LogprobMode m) {
        return new SamplingParams(temperature, topK, topP, minP, maxNewTokens, stopTokenIds, stopStrings, ignoreEos, seed, m);
    }

    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(temperature, topK, topP, minP, n, stopTokenIds, stopStrings, ignoreEos, seed, logprobMode);
    }
}

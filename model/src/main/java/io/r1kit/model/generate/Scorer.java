package io.r1kit.model.generate;

import io.r1kit.model.arch.Batch;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.TokenScores;
import io.r1kit.model.autograd.Grad;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher-forced scoring without gradients: log p(completion token j | prompt, completion[&lt;j]) for
 * every completion token (GRPO's old-policy and reference-policy log-probs), optionally with the
 * entropy of each position's distribution. Runs in batches of {@code batchSize} sequences, sorted by
 * length so padding stays small; results come back in input order.
 */
public final class Scorer {
    private Scorer() {}

    /** Per-sequence scores: one log-prob (and entropy, or null) per completion token. */
    public record Scores(float[] logprobs, float[] entropies) {}

    /** Log-probs at temperature 1. */
    public static List<float[]> logprobs(CausalLM model, List<int[]> prompts, List<int[]> completions, int batchSize) {
        List<float[]> out = new ArrayList<>();
        for (Scores s : score(model, prompts, completions, 1f, false, batchSize)) out.add(s.logprobs());
        return out;
    }

    /**
     * Scores under softmax(logits / temperature) (TRL scores old/ref log-probs at the sampling
     * temperature). Every prompt needs at least one token.
     */
    public static List<Scores> score(CausalLM model, List<int[]> prompts, List<int[]> completions, float temperature,
                                     boolean withEntropy, int batchSize) {
        if (prompts.size() != completions.size())
            throw new IllegalArgumentException("score: " + prompts.size() + " prompts but " + completions.size() + " completions");
        if (batchSize < 1) throw new IllegalArgumentException("score: batchSize must be >= 1");
        int N = prompts.size();
        Integer[] order = new Integer[N];
        for (int i = 0; i < N; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(
                prompts.get(b).length + completions.get(b).length, prompts.get(a).length + completions.get(a).length));
        Scores[] res = new Scores[N];
        try (var ng = Grad.noGrad()) {
            for (int s = 0; s < N; s += batchSize) {
                int e = Math.min(N, s + batchSize);
                List<int[]> ps = new ArrayList<>(), cs = new ArrayList<>();
                for (int i = s; i < e; i++) {
                    ps.add(prompts.get(order[i]));
                    cs.add(completions.get(order[i]));
                }
                Batch batch = Batch.of(ps, cs);
                TokenScores ts = model.scoreTokens(batch, temperature, withEntropy);
                for (int i = s; i < e; i++) {
                    int b = i - s;
                    res[order[i]] = new Scores(batch.completionValues(ts.logprobs(), b),
                            withEntropy ? batch.completionValues(ts.entropy(), b) : null);
                }
            }
        }
        return java.util.Arrays.asList(res);
    }
}

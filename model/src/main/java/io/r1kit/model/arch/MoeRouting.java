package io.r1kit.model.arch;

import io.r1kit.model.hf.DeepseekV3Params;

/**
 * DeepSeek-V3's expert choice (transformers' DeepseekV3TopkRouter.get_topk_indices), on the host:
 * scores_for_choice = sigmoid scores + e_score_correction_bias; each of n_group groups is scored
 * by the sum of its top-2 choice scores; the topk_group best groups are kept and every expert of
 * the other groups gets choice score 0.0 (transformers' masked_fill value, not -inf); the
 * num_experts_per_tok best choice scores are the token's experts. Ties go to the lower index
 * (group or expert), which makes the choice deterministic. The bias only chooses: the weights are
 * the unbiased scores ({@link DeepseekMoe}).
 */
public final class MoeRouting {
    private MoeRouting() {}

    /**
     * Expert indices [N·k], token-major, in decreasing choice score.
     * @param scores sigmoid router scores [N, E]
     * @param bias   e_score_correction_bias [E]
     */
    public static int[] topk(float[] scores, float[] bias, int N, DeepseekV3Params d) {
        int E = d.nRoutedExperts(), G = d.nGroup(), per = d.groupSize(), K = d.numExpertsPerTok(), kg = d.topkGroup();
        if (scores.length != N * E) throw new IllegalArgumentException("MoeRouting: scores has " + scores.length + " values, expected N*E = " + N * E);
        if (bias.length != E) throw new IllegalArgumentException("MoeRouting: bias has " + bias.length + " values, expected " + E);
        int[] out = new int[N * K];
        float[] choice = new float[E], groupScore = new float[G];
        boolean[] keep = new boolean[G], taken = new boolean[E];
        for (int n = 0; n < N; n++) {
            for (int e = 0; e < E; e++) choice[e] = scores[n * E + e] + bias[e];
            for (int g = 0; g < G; g++) {
                float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;   // top-2 of the group
                for (int j = g * per; j < (g + 1) * per; j++) {
                    float v = choice[j];
                    if (v > a) { b = a; a = v; } else if (v > b) b = v;
                }
                groupScore[g] = a + b;
                keep[g] = false;
            }
            for (int t = 0; t < kg; t++) {
                int best = -1;
                for (int g = 0; g < G; g++) if (!keep[g] && (best < 0 || groupScore[g] > groupScore[best])) best = g;
                keep[best] = true;
            }
            for (int e = 0; e < E; e++) {
                if (!keep[e / per]) choice[e] = 0f;
                taken[e] = false;
            }
            for (int t = 0; t < K; t++) {
                int best = -1;
                for (int e = 0; e < E; e++) if (!taken[e] && (best < 0 || choice[e] > choice[best])) best = e;
                taken[best] = true;
                out[n * K + t] = best;
            }
        }
        return out;
    }
}

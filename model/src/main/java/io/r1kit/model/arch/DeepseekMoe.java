package io.r1kit.model.arch;

import io.r1kit.model.autograd.Grad;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.ops.F;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * DeepSeekMoE, transformers' DeepseekV3MoE: sigmoid router scores, experts chosen by
 * {@link MoeRouting} (the correction bias only chooses), weights = the chosen unbiased scores,
 * normalised to sum 1 when norm_topk_prob, times routed_scaling_factor; output = Σ weight · expert(x)
 * plus the shared experts' MLP. No capacity limit, so no token is ever dropped.
 *
 * <p>Tokens are grouped by expert: the N·k (token, slot) assignments are sorted by expert, the
 * sorted rows gathered once, each expert runs its three GEMMs on its contiguous block, and a
 * batched [1, k]·[k, C] product per token combines the k outputs with the weights. Every step is
 * a differentiable op, so backward and the device path come from them.
 *
 * <p>Training statistics: while grad is on, each forward adds its tokens' expert counts to
 * {@link #load()} (auxiliary-loss-free balancing reads and clears them, see
 * {@link CausalLM#updateExpertBias}); with aux_loss_alpha > 0 it also keeps the sequence-wise
 * balance loss of that forward ({@link #takeAuxLoss()}).
 */
final class DeepseekMoe {
    private final DeepseekV3Params d;
    private final int C;
    final Parameter gate;
    /** e_score_correction_bias: a buffer (saved and loaded, no gradient, moved only by the balancing update). */
    final Parameter bias;
    final List<SwiGluMlp> experts = new ArrayList<>();
    final SwiGluMlp shared;
    private final long[] load;
    private long tokens;       // real tokens routed since the last reset (each should add k to the loads)
    private Tensor auxLoss;

    DeepseekMoe(ModelConfig c, String prefix, RandomGenerator rng, float std) {
        this.d = c.deepseek();
        this.C = c.hiddenSize();
        int E = d.nRoutedExperts();
        for (int e = 0; e < E; e++) experts.add(new SwiGluMlp(prefix + "experts." + e + ".", C, d.moeIntermediateSize(), rng, std));
        gate = DecoderLayer.mat(prefix + "gate.weight", rng, std, E, C);
        bias = Parameter.zeros(prefix + "gate.e_score_correction_bias", E);
        shared = d.nSharedExperts() > 0
                ? new SwiGluMlp(prefix + "shared_experts.", C, d.moeIntermediateSize() * d.nSharedExperts(), rng, std) : null;
        load = new long[E];
    }

    /** Trainable parameters in state_dict order (experts, gate, shared experts); the bias is a buffer. */
    /**
     * bf16 precision: the experts' and shared experts' projections read bf16 weight copies; the
     * router stays fp32 (its weight and input), so expert choice is made at full precision.
     */
    void bf16(boolean on) {
        for (SwiGluMlp e : experts) e.bf16(on);
        if (shared != null) shared.bf16(on);
    }

    List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (SwiGluMlp e : experts) ps.addAll(e.parameters());
        ps.add(gate);
        if (shared != null) ps.addAll(shared.parameters());
        return ps;
    }

    long[] load() {
        return load;
    }

    long tokens() {
        return tokens;
    }

    void resetLoad() {
        Arrays.fill(load, 0);
        tokens = 0;
    }

    /** The sequence-wise balance loss of the last training forward (null if none), cleared. */
    Tensor takeAuxLoss() {
        Tensor a = auxLoss;
        auxLoss = null;
        return a;
    }

    /** x [B, T, C] (normalised) → [B, T, C]; keyMask [B·T] marks padding (excluded from the statistics). */
    Tensor forward(Tensor x, int B, int T, byte[] keyMask) {
        int N = B * T, E = d.nRoutedExperts(), K = d.numExpertsPerTok();
        Tensor flat = F.reshape(x, N, C);
        Tensor scores = F.sigmoid(F.linear(flat, gate));                     // [N, E]
        int[] idx = MoeRouting.topk(scores.toArray(), bias.toArray(), N, d);  // [N·K]
        int[] pick = new int[N * K];
        for (int i = 0; i < N * K; i++) pick[i] = (i / K) * E + idx[i];
        Tensor w = F.reshape(F.indexSelect(F.reshape(scores, N * E, 1), pick), N, K);
        if (d.normTopkProb()) w = F.div(w, F.addScalar(F.sum(w, 1, true), 1e-20f));
        w = F.scale(w, (float) d.routedScalingFactor());

        // group the assignments by expert (counting sort, token order kept within an expert)
        int[] count = new int[E + 1];
        for (int e : idx) count[e + 1]++;
        for (int e = 0; e < E; e++) count[e + 1] += count[e];
        int[] sortedToken = new int[N * K], slotOf = new int[N * K], fill = count.clone();
        for (int i = 0; i < N * K; i++) {
            int at = fill[idx[i]]++;
            sortedToken[at] = i / K;
            slotOf[i] = at;                                                  // assignment i sits at row `at`
        }
        Tensor xs = F.indexSelect(flat, sortedToken);                       // [N·K, C]
        List<Tensor> outs = new ArrayList<>();
        for (int e = 0; e < E; e++) {
            if (count[e + 1] == count[e]) continue;
            outs.add(experts.get(e).forward(F.slice(xs, 0, count[e], count[e + 1]), true));
        }
        Tensor ys = outs.size() == 1 ? outs.get(0) : F.concat(outs, 0);     // [N·K, C], expert-sorted
        Tensor perToken = F.reshape(F.indexSelect(ys, slotOf), N, K, C);        // back to (token, slot) order
        Tensor routed = F.reshape(F.matmul(F.reshape(w, N, 1, K), perToken), N, C);
        Tensor out = shared == null ? routed : F.add(routed, shared.forward(flat, false));

        if (Grad.isEnabled()) {
            for (int i = 0; i < N * K; i++) if (keyMask == null || keyMask[i / K] != 0) load[idx[i]]++;
            for (int n = 0; n < N; n++) if (keyMask == null || keyMask[n] != 0) tokens++;
            if (d.auxLossAlpha() > 0) auxLoss = sequenceBalanceLoss(scores, idx, B, T, keyMask);
        }
        return F.reshape(out, B, T, C);
    }

    /**
     * DeepSeek-V3's complementary sequence-wise balance loss α·Σ_i f_i·P_i per sequence (averaged over
     * the batch): f_i = E/(K·T')·#(tokens choosing i), P_i = mean over tokens of the scores normalised
     * over all experts; T' = the sequence's real tokens. f is a constant; the gradient flows through P.
     */
    private Tensor sequenceBalanceLoss(Tensor scores, int[] idx, int B, int T, byte[] keyMask) {
        int E = d.nRoutedExperts(), K = d.numExpertsPerTok(), N = B * T;
        float[] f = new float[B * E], m = new float[N];
        for (int b = 0; b < B; b++) {
            int real = 0;
            for (int t = 0; t < T; t++) if (keyMask == null || keyMask[b * T + t] != 0) real++;
            for (int t = 0; t < T; t++) {
                int n = b * T + t;
                if (keyMask != null && keyMask[n] == 0) continue;
                m[n] = 1f / Math.max(1, real);
                for (int s = 0; s < K; s++) f[b * E + idx[n * K + s]] += (float) E / (K * Math.max(1, real));
            }
        }
        Tensor mt = Tensor.of(m, N, 1).toDeviceOf(scores, "MoE balance weights");   // the constants where the scores live
        Tensor ft = Tensor.of(f, B, E).toDeviceOf(scores, "MoE expert loads");
        Tensor normed = F.div(scores, F.sum(scores, 1, true));                           // s'_{t,i}
        Tensor p = F.sum(F.reshape(F.mul(normed, mt), B, T, E), 1, false);               // P [B, E]
        return F.scale(F.sum(F.mul(p, ft)), (float) (d.auxLossAlpha() / B));
    }
}

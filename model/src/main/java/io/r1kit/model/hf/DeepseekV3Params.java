package io.r1kit.model.hf;

/**
 * The keys of a {@code deepseek_v3} config.json beyond the common decoder ones, named and defaulted
 * as transformers' {@code DeepseekV3Config} names them (plus DeepSeek's own
 * {@code num_nextn_predict_layers} and {@code aux_loss_alpha}).
 *
 * @param qLoraRank             {@code q_lora_rank}; 0 when null (a plain {@code q_proj})
 * @param kvLoraRank            {@code kv_lora_rank}: width of the compressed KV latent c_kv
 * @param qkNopeHeadDim         {@code qk_nope_head_dim}: per-head query/key part without RoPE
 * @param qkRopeHeadDim         {@code qk_rope_head_dim}: per-head query part and shared key part with RoPE
 * @param vHeadDim              {@code v_head_dim}
 * @param ropeInterleave        {@code rope_interleave}: the RoPE part is stored in interleaved pairs (DeepSeek's layout)
 * @param nRoutedExperts        {@code n_routed_experts}
 * @param nSharedExperts        {@code n_shared_experts} (one MLP of width n_shared · moe_intermediate_size)
 * @param numExpertsPerTok      {@code num_experts_per_tok}: routed experts per token (top-k)
 * @param nGroup                {@code n_group}: expert groups for group-limited routing
 * @param topkGroup             {@code topk_group}: groups kept per token
 * @param routedScalingFactor   {@code routed_scaling_factor}: multiplies the routed weights
 * @param normTopkProb          {@code norm_topk_prob}: routed weights normalised to sum 1 before scaling
 * @param firstKDenseReplace    {@code first_k_dense_replace}: the first k layers have a dense MLP
 * @param moeIntermediateSize   {@code moe_intermediate_size}: width of each routed expert
 * @param numNextnPredictLayers {@code num_nextn_predict_layers}: MTP modules stored at layer index num_hidden_layers + d
 * @param auxLossAlpha          {@code aux_loss_alpha}: weight of the sequence-wise balance loss in training (0 = off)
 */
public record DeepseekV3Params(
        int qLoraRank,
        int kvLoraRank,
        int qkNopeHeadDim,
        int qkRopeHeadDim,
        int vHeadDim,
        boolean ropeInterleave,
        int nRoutedExperts,
        int nSharedExperts,
        int numExpertsPerTok,
        int nGroup,
        int topkGroup,
        double routedScalingFactor,
        boolean normTopkProb,
        int firstKDenseReplace,
        int moeIntermediateSize,
        int numNextnPredictLayers,
        double auxLossAlpha) {

    public DeepseekV3Params {
        if (qLoraRank < 0) throw new IllegalArgumentException("q_lora_rank must be > 0 or null, got " + qLoraRank);
        pos("kv_lora_rank", kvLoraRank);
        pos("qk_nope_head_dim", qkNopeHeadDim);
        pos("qk_rope_head_dim", qkRopeHeadDim);
        pos("v_head_dim", vHeadDim);
        pos("n_routed_experts", nRoutedExperts);
        if (nSharedExperts < 0) throw new IllegalArgumentException("n_shared_experts must be >= 0, got " + nSharedExperts);
        pos("num_experts_per_tok", numExpertsPerTok);
        pos("n_group", nGroup);
        pos("topk_group", topkGroup);
        pos("moe_intermediate_size", moeIntermediateSize);
        if (qkRopeHeadDim % 2 != 0) throw new IllegalArgumentException("qk_rope_head_dim must be even for RoPE, got " + qkRopeHeadDim);
        if (nRoutedExperts % nGroup != 0)
            throw new IllegalArgumentException("n_routed_experts (" + nRoutedExperts + ") must be a multiple of n_group (" + nGroup + ")");
        if (nRoutedExperts / nGroup < 2)
            throw new IllegalArgumentException("group-limited routing scores a group by its top-2 experts: n_routed_experts / n_group must be >= 2, got "
                    + nRoutedExperts + " / " + nGroup);
        if (topkGroup > nGroup) throw new IllegalArgumentException("topk_group (" + topkGroup + ") must be <= n_group (" + nGroup + ")");
        if (numExpertsPerTok > topkGroup * (nRoutedExperts / nGroup))
            throw new IllegalArgumentException("num_experts_per_tok (" + numExpertsPerTok + ") exceeds the experts of the topk_group ("
                    + topkGroup + ") kept groups (" + topkGroup * (nRoutedExperts / nGroup) + ")");
        if (!(routedScalingFactor > 0)) throw new IllegalArgumentException("routed_scaling_factor must be > 0, got " + routedScalingFactor);
        if (firstKDenseReplace < 0) throw new IllegalArgumentException("first_k_dense_replace must be >= 0, got " + firstKDenseReplace);
        if (numNextnPredictLayers < 0) throw new IllegalArgumentException("num_nextn_predict_layers must be >= 0, got " + numNextnPredictLayers);
        if (!(auxLossAlpha >= 0)) throw new IllegalArgumentException("aux_loss_alpha must be >= 0, got " + auxLossAlpha);
    }

    /**
     * Small defaults for a model trained from scratch (r1kit's {@code model.scratch.family: deepseek_v3}),
     * scaled from the width: per-head size dh = hidden / heads split into qk_nope = qk_rope = dh/2
     * and v_head_dim = dh, kv_lora_rank = hidden/2, q_lora_rank = 3·hidden/4, 8 routed experts of
     * width intermediate/4 in 4 groups (2 kept), top-2, 1 shared expert, routed_scaling_factor 1,
     * normalised weights, the first layer dense, one MTP module, interleaved RoPE.
     */
    public static DeepseekV3Params smallDefaults(int hidden, int heads, int intermediate) {
        if (heads <= 0 || hidden % heads != 0 || (hidden / heads) % 4 != 0)
            throw new IllegalArgumentException("deepseek_v3 scratch model: hidden_size / num_heads must be a multiple of 4, got "
                    + hidden + " / " + heads);
        int dh = hidden / heads;
        int moeWidth = Math.max(8, (intermediate / 4 + 7) / 8 * 8);
        return new DeepseekV3Params(3 * hidden / 4, hidden / 2, dh / 2, dh / 2, dh, true, 8, 1, 2, 4, 2, 1.0, true, 1, moeWidth, 1, 0);
    }

    private static void pos(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }

    /** Per-head query/key width: qk_nope_head_dim + qk_rope_head_dim. */
    public int qkHeadDim() {
        return qkNopeHeadDim + qkRopeHeadDim;
    }

    public boolean hasQLora() {
        return qLoraRank > 0;
    }

    /** Experts per group. */
    public int groupSize() {
        return nRoutedExperts / nGroup;
    }

    /** Layer {@code layer} (0-based, MTP layers included) has a DeepSeekMoE block rather than a dense MLP. */
    public boolean isMoeLayer(int layer) {
        return layer >= firstKDenseReplace;
    }

    public DeepseekV3Params withNumNextnPredictLayers(int n) {
        return new DeepseekV3Params(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, ropeInterleave, nRoutedExperts,
                nSharedExperts, numExpertsPerTok, nGroup, topkGroup, routedScalingFactor, normTopkProb, firstKDenseReplace,
                moeIntermediateSize, n, auxLossAlpha);
    }

    public DeepseekV3Params withQLoraRank(int r) {
        return new DeepseekV3Params(r, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, ropeInterleave, nRoutedExperts,
                nSharedExperts, numExpertsPerTok, nGroup, topkGroup, routedScalingFactor, normTopkProb, firstKDenseReplace,
                moeIntermediateSize, numNextnPredictLayers, auxLossAlpha);
    }

    public DeepseekV3Params withRopeInterleave(boolean on) {
        return new DeepseekV3Params(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, on, nRoutedExperts,
                nSharedExperts, numExpertsPerTok, nGroup, topkGroup, routedScalingFactor, normTopkProb, firstKDenseReplace,
                moeIntermediateSize, numNextnPredictLayers, auxLossAlpha);
    }

    public DeepseekV3Params withAuxLossAlpha(double a) {
        return new DeepseekV3Params(qLoraRank, kvLoraRank, qkNopeHeadDim, qkRopeHeadDim, vHeadDim, ropeInterleave, nRoutedExperts,
                nSharedExperts, numExpertsPerTok, nGroup, topkGroup, routedScalingFactor, normTopkProb, firstKDenseReplace,
                moeIntermediateSize, numNextnPredictLayers, a);
    }
}

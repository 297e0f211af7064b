package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.CheckpointException;
import io.r1kit.model.hf.DeepseekV3Params;
import io.r1kit.model.hf.HfModelConfig;
import io.r1kit.model.hf.HfModelConfig.Architecture;
import java.nio.file.Path;
import java.util.List;

/**
 * Shape and hyper-parameters of a decoder-only transformer (Llama 2/3, Qwen2/2.5, Qwen3): enough to
 * build a model from scratch ({@link CausalLM#random}) or to check a checkpoint against.
 * {@link #fromHf} / {@link #toHf} convert to and from a parsed {@code config.json}.
 *
 * <p>The family fixes what transformers' modeling class hard-codes, and the constructor enforces it
 * so that a saved config.json reproduces the model: Qwen2 always has q/k/v biases and no o_proj bias,
 * Qwen3 always normalises q and k per head, Llama has neither q/k norm nor q/k/v bias without o_proj bias.
 *
 * @param family            Llama, Qwen2 or Qwen3 (transformers' LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)
 * @param vocabSize         rows of the embedding and of lm_head
 * @param hiddenSize        model width C
 * @param intermediateSize  SwiGLU width
 * @param numLayers         decoder blocks
 * @param numHeads          query heads Hq
 * @param numKvHeads        key/value heads Hkv (GQA; Hq % Hkv == 0)
 * @param headDim           per-head size D (Qwen3 gives it explicitly; else C / Hq)
 * @param maxPositions      rope tables are built for positions [0, maxPositions)
 * @param ropeTheta         RoPE base
 * @param ropeScaling       RoPE scaling (none, linear, llama3)
 * @param rmsEps            RMSNorm epsilon
 * @param tieEmbeddings     lm_head reuses model.embed_tokens.weight (no lm_head.weight tensor)
 * @param qkvBias           q/k/v projections have biases
 * @param outputBias        o_proj has a bias
 * @param mlpBias           gate/up/down projections have biases
 * @param qkNorm            per-head RMSNorm of q and k before RoPE (Qwen3)
 * @param initStd           std of the normal init of weight matrices (HF initializer_range)
 * @param deepseek          MLA / DeepSeekMoE / MTP shape of a DeepSeek-V3 model (family DEEPSEEK_V3), else null
 * @param yarn              the yarn {@code rope_scaling} of a DeepSeek-V3 model (ropeScaling is then none), or null
 */
public record ModelConfig(
        Architecture family,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int maxPositions,
        double ropeTheta,
        RopeTables.Scaling ropeScaling,
        double rmsEps,
        boolean tieEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        boolean qkNorm,
        double initStd,
        DeepseekV3Params deepseek,
        HfModelConfig.RopeScaling yarn) {

    public ModelConfig {
        if (family == null) throw new IllegalArgumentException("ModelConfig: family must be set");
        if (ropeScaling == null) ropeScaling = RopeTables.Scaling.none();
        positive("vocabSize", vocabSize);
        positive("hiddenSize", hiddenSize);
        positive("intermediateSize", intermediateSize);
        positive("numLayers", numLayers);
        positive("numHeads", numHeads);
        positive("numKvHeads", numKvHeads);
        positive("headDim", headDim);
        positive("maxPositions", maxPositions);
        if (numHeads % numKvHeads != 0)
            throw new IllegalArgumentException("ModelConfig: numHeads " + numHeads + " is not a multiple of numKvHeads " + numKvHeads);
        if (headDim % 2 != 0) throw new IllegalArgumentException("ModelConfig: headDim must be even for RoPE, got " + headDim);
        if (!(rmsEps > 0)) throw new IllegalArgumentException("ModelConfig: rmsEps must be > 0, got " + rmsEps);
        if (!(ropeTheta > 1)) throw new IllegalArgumentException("ModelConfig: ropeTheta must be > 1, got " + ropeTheta);
        if (!(initStd >= 0)) throw new IllegalArgumentException("ModelConfig: initStd must be >= 0, got " + initStd);
        if ((family == Architecture.DEEPSEEK_V3) != (deepseek != null))
            throw new IllegalArgumentException("ModelConfig: deepseek parameters are given exactly for the DeepSeek-V3 family");
        if (yarn != null && (family != Architecture.DEEPSEEK_V3 || !yarn.type().equals("yarn") || yarn.yarn() == null))
            throw new IllegalArgumentException("ModelConfig: yarn rope scaling is implemented for DeepSeek-V3 only");
        switch (family) {
            case QWEN2 -> {
                if (!qkvBias || outputBias || qkNorm)
                    throw new IllegalArgumentException("ModelConfig: Qwen2 always has q/k/v biases, no o_proj bias and no q/k norm");
            }
            case QWEN3 -> {
                if (!qkNorm) throw new IllegalArgumentException("ModelConfig: Qwen3 always has q/k norm");
                if (qkvBias != outputBias)
                    throw new IllegalArgumentException("ModelConfig: Qwen3 has biases on q/k/v and o_proj together (attention_bias) or on none");
            }
            case DEEPSEEK_V3 -> {
                if (deepseek == null) throw new IllegalArgumentException("ModelConfig: DeepSeek-V3 needs its MLA/MoE parameters");
                if (qkvBias || outputBias || mlpBias || qkNorm)
                    throw new IllegalArgumentException("ModelConfig: DeepSeek-V3 has no biases and no q/k norm here");
                if (numKvHeads != numHeads || headDim != deepseek.qkRopeHeadDim())
                    throw new IllegalArgumentException("ModelConfig: DeepSeek-V3 has numKvHeads = numHeads and headDim = qk_rope_head_dim");
                if (yarn != null && ropeScaling.type() != RopeTables.ScalingType.DEFAULT)
                    throw new IllegalArgumentException("ModelConfig: yarn and " + ropeScaling.type() + " rope scaling together");
            }
            case LLAMA -> {
                if (qkNorm) throw new IllegalArgumentException("ModelConfig: Llama has no q/k norm");
                if (qkvBias != outputBias)
                    throw new IllegalArgumentException("ModelConfig: Llama has biases on q/k/v and o_proj together (attention_bias) or on none");
            }
        }
    }

    private static void positive(String what, int v) {
        if (v <= 0) throw new IllegalArgumentException("ModelConfig: " + what + " must be > 0, got " + v);
    }

    /** Llama: rope theta 10000 (Llama 2; use {@link #withRope} for Llama 3's 500000 + llama3 scaling), eps 1e-5. */
    public static ModelConfig llama(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig(Architecture.LLAMA, vocab, hidden, ffn, layers, heads, kvHeads, headDimOf(hidden, heads),
                2048, 10000.0, RopeTables.Scaling.none(), 1e-5, false, false, false, false, false, 0.02, null, null);
    }

    /** Qwen2 / Qwen2.5: q/k/v biases, rope theta 1e6, eps 1e-6. */
    public static ModelConfig qwen2(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig(Architecture.QWEN2, vocab, hidden, ffn, layers, heads, kvHeads, headDimOf(hidden, heads),
                2048, 1_000_000.0, RopeTables.Scaling.none(), 1e-6, false, true, false, false, false, 0.02, null, null);
    }

    /** Qwen3: per-head q/k RMSNorm, no biases, rope theta 1e6, eps 1e-6; head_dim defaults to hidden/heads. */
    public static ModelConfig qwen3(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig(Architecture.QWEN3, vocab, hidden, ffn, layers, heads, kvHeads, headDimOf(hidden, heads),
                2048, 1_000_000.0, RopeTables.Scaling.none(), 1e-6, false, false, false, false, true, 0.02, null, null);
    }

    /**
     * DeepSeek-V3 (MLA + DeepSeekMoE): rope theta 10000, eps 1e-6, no yarn, untied, no MTP; the MLA /
     * MoE shape is {@code ds}. {@code ffn} is the dense layers' (first_k_dense_replace) MLP width.
     */
    public static ModelConfig deepseekV3(int vocab, int hidden, int ffn, int layers, int heads, DeepseekV3Params ds) {
        return new ModelConfig(Architecture.DEEPSEEK_V3, vocab, hidden, ffn, layers, heads, heads, ds.qkRopeHeadDim(),
                2048, 10000.0, RopeTables.Scaling.none(), 1e-6, false, false, false, false, false, 0.02, ds, null);
    }

    public ModelConfig withDeepseek(DeepseekV3Params ds) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd, ds, yarn);
    }

    /** DeepSeek-V3 with a yarn {@code rope_scaling} (transformers' rope_type "yarn", with mscale / mscale_all_dim). */
    public ModelConfig withYarn(HfModelConfig.RopeScaling y) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, RopeTables.Scaling.none(), rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm,
                initStd, deepseek, y);
    }

    public boolean isDeepseekV3() {
        return deepseek != null;
    }

    private static int headDimOf(int hidden, int heads) {
        if (heads <= 0 || hidden % heads != 0)
            throw new IllegalArgumentException("ModelConfig: hidden " + hidden + " is not divisible by heads " + heads);
        return hidden / heads;
    }

    public ModelConfig withTieEmbeddings(boolean tie) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tie, qkvBias, outputBias, mlpBias, qkNorm, initStd, deepseek, yarn);
    }

    public ModelConfig withHeadDim(int d) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, d,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd, deepseek, yarn);
    }

    public ModelConfig withRope(double theta, RopeTables.Scaling scaling, int maxPos) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPos, theta, scaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd, deepseek, yarn);
    }

    public ModelConfig withRmsEps(double eps) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, eps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd, deepseek, yarn);
    }

    /** Llama / Qwen3 {@code attention_bias}: biases on q, k, v and o_proj. */
    public ModelConfig withAttentionBias(boolean bias) {
        if (family == Architecture.QWEN2) throw new IllegalArgumentException("ModelConfig: Qwen2's biases are fixed (q/k/v only)");
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, bias, bias, mlpBias, qkNorm, initStd, deepseek, yarn);
    }

    /** Llama {@code mlp_bias}: biases on gate/up/down. */
    public ModelConfig withMlpBias(boolean bias) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, bias, qkNorm, initStd, deepseek, yarn);
    }

    public ModelConfig withInitStd(double std) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, std, deepseek, yarn);
    }

    /** Number of parameters (counting a tied matrix once). */
    public long parameterCount() {
        if (deepseek != null) return deepseekParameterCount();
        long C = hiddenSize, D = headDim, q = (long) numHeads * D, kv = (long) numKvHeads * D;
        long attn = C * q + 2 * C * kv + q * C + (qkvBias ? q + 2 * kv : 0) + (outputBias ? C : 0) + (qkNorm ? 2 * D : 0);
        long mlp = 3 * C * intermediateSize + (mlpBias ? 2L * intermediateSize + C : 0);
        long perLayer = attn + mlp + 2 * C;
        return (long) vocabSize * C * (tieEmbeddings ? 1 : 2) + numLayers * perLayer + C;
    }

    /** Trainable parameters of a DeepSeek-V3 model, MTP modules included (their shared embedding / head counted once). */
    private long deepseekParameterCount() {
        DeepseekV3Params d = deepseek;
        long C = hiddenSize, H = numHeads;
        long q = d.hasQLora() ? C * d.qLoraRank() + d.qLoraRank() + (long) d.qLoraRank() * H * d.qkHeadDim() : C * H * d.qkHeadDim();
        long attn = q + C * (d.kvLoraRank() + d.qkRopeHeadDim()) + d.kvLoraRank()
                + (long) d.kvLoraRank() * H * (d.qkNopeHeadDim() + d.vHeadDim()) + H * d.vHeadDim() * C;
        long dense = 3 * C * intermediateSize;
        long moe = (long) d.nRoutedExperts() * 3 * C * d.moeIntermediateSize() + d.nRoutedExperts() * C
                + 3 * C * (long) d.moeIntermediateSize() * d.nSharedExperts();
        long total = (long) vocabSize * C * (tieEmbeddings ? 1 : 2) + C;
        for (int l = 0; l < numLayers + d.numNextnPredictLayers(); l++) {
            total += attn + 2 * C + (d.isMoeLayer(l) ? moe : dense);
            if (l >= numLayers) total += 2 * C + 2 * C * C + C;   // enorm, hnorm, eh_proj, shared_head.norm
        }
        return total;
    }

    /**
     * The model config of a parsed config.json. {@code file} names the config in errors (rope
     * scaling types r1kit's rope tables cannot build: dynamic, yarn).
     */
    public static ModelConfig fromHf(HfModelConfig c, Path file) throws CheckpointException {
        RopeTables.Scaling scaling;
        HfModelConfig.RopeScaling rs = c.ropeScaling();
        HfModelConfig.RopeScaling yarn = null;
        if (rs == null || rs.type().equals("default")) {
            scaling = RopeTables.Scaling.none();
        } else if (rs.type().equals("yarn") && c.deepseek() != null) {
            scaling = RopeTables.Scaling.none();
            yarn = rs;
        } else if (rs.type().equals("linear")) {
            scaling = RopeTables.Scaling.linear(rs.factor());
        } else if (rs.type().equals("llama3")) {
            scaling = RopeTables.Scaling.llama3(rs.factor(), rs.lowFreqFactor(), rs.highFreqFactor(), rs.originalMaxPositionEmbeddings());
        } else {
            throw new CheckpointException(file, "rope_scaling.rope_type", "'" + rs.type()
                    + "' is not supported by the r1kit transformer (supported: default, linear, llama3; yarn for deepseek_v3)");
        }
        try {
            return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                    c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta(), scaling,
                    c.rmsNormEps(), c.tieWordEmbeddings(), c.qkvBias(), c.outputBias(), c.mlpBias(), c.qkNorm(), c.initializerRange(),
                    c.deepseek(), yarn);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
    }

    /** The config.json fields of this config (no special token ids; float32). */
    public HfModelConfig toHf() {
        HfModelConfig.RopeScaling rs = switch (ropeScaling.type()) {
            case DEFAULT -> yarn;
            case LINEAR -> HfModelConfig.RopeScaling.linear(ropeScaling.factor());
            case LLAMA3 -> HfModelConfig.RopeScaling.llama3(ropeScaling.factor(), ropeScaling.lowFreqFactor(),
                    ropeScaling.highFreqFactor(), ropeScaling.originalMaxPositionEmbeddings());
        };
        return new HfModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, rmsEps, ropeTheta, rs, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm,
                null, List.of(), null, "float32", initStd, deepseek);
    }
}

package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.hf.CheckpointException;
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
        double initStd) {

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
                2048, 10000.0, RopeTables.Scaling.none(), 1e-5, false, false, false, false, false, 0.02);
    }

    /** Qwen2 / Qwen2.5: q/k/v biases, rope theta 1e6, eps 1e-6. */
    public static ModelConfig qwen2(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig(Architecture.QWEN2, vocab, hidden, ffn, layers, heads, kvHeads, headDimOf(hidden, heads),
                2048, 1_000_000.0, RopeTables.Scaling.none(), 1e-6, false, true, false, false, false, 0.02);
    }

    /** Qwen3: per-head q/k RMSNorm, no biases, rope theta 1e6, eps 1e-6; head_dim defaults to hidden/heads. */
    public static ModelConfig qwen3(int vocab, int hidden, int ffn, int layers, int heads, int kvHeads) {
        return new ModelConfig(Architecture.QWEN3, vocab, hidden, ffn, layers, heads, kvHeads, headDimOf(hidden, heads),
                2048, 1_000_000.0, RopeTables.Scaling.none(), 1e-6, false, false, false, false, true, 0.02);
    }

    private static int headDimOf(int hidden, int heads) {
        if (heads <= 0 || hidden % heads != 0)
            throw new IllegalArgumentException("ModelConfig: hidden " + hidden + " is not divisible by heads " + heads);
        return hidden / heads;
    }

    public ModelConfig withTieEmbeddings(boolean tie) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tie, qkvBias, outputBias, mlpBias, qkNorm, initStd);
    }

    public ModelConfig withHeadDim(int d) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, d,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd);
    }

    public ModelConfig withRope(double theta, RopeTables.Scaling scaling, int maxPos) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPos, theta, scaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd);
    }

    public ModelConfig withRmsEps(double eps) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, eps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, initStd);
    }

    /** Llama / Qwen3 {@code attention_bias}: biases on q, k, v and o_proj. */
    public ModelConfig withAttentionBias(boolean bias) {
        if (family == Architecture.QWEN2) throw new IllegalArgumentException("ModelConfig: Qwen2's biases are fixed (q/k/v only)");
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, bias, bias, mlpBias, qkNorm, initStd);
    }

    /** Llama {@code mlp_bias}: biases on gate/up/down. */
    public ModelConfig withMlpBias(boolean bias) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, bias, qkNorm, initStd);
    }

    public ModelConfig withInitStd(double std) {
        return new ModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, ropeTheta, ropeScaling, rmsEps, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm, std);
    }

    /** Number of parameters (counting a tied matrix once). */
    public long parameterCount() {
        long C = hiddenSize, D = headDim, q = (long) numHeads * D, kv = (long) numKvHeads * D;
        long attn = C * q + 2 * C * kv + q * C + (qkvBias ? q + 2 * kv : 0) + (outputBias ? C : 0) + (qkNorm ? 2 * D : 0);
        long mlp = 3 * C * intermediateSize + (mlpBias ? 2L * intermediateSize + C : 0);
        long perLayer = attn + mlp + 2 * C;
        return (long) vocabSize * C * (tieEmbeddings ? 1 : 2) + numLayers * perLayer + C;
    }

    /**
     * The model config of a parsed config.json. {@code file} names the config in errors (rope
     * scaling types r1kit's rope tables cannot build: dynamic, yarn).
     */
    public static ModelConfig fromHf(HfModelConfig c, Path file) throws CheckpointException {
        RopeTables.Scaling scaling;
        HfModelConfig.RopeScaling rs = c.ropeScaling();
        if (rs == null || rs.type().equals("default")) {
            scaling = RopeTables.Scaling.none();
        } else if (rs.type().equals("linear")) {
            scaling = RopeTables.Scaling.linear(rs.factor());
        } else if (rs.type().equals("llama3")) {
            scaling = RopeTables.Scaling.llama3(rs.factor(), rs.lowFreqFactor(), rs.highFreqFactor(), rs.originalMaxPositionEmbeddings());
        } else {
            throw new CheckpointException(file, "rope_scaling.rope_type", "'" + rs.type()
                    + "' is not supported by the r1kit transformer (supported: default, linear, llama3)");
        }
        try {
            return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                    c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.maxPositionEmbeddings(), c.ropeTheta(), scaling,
                    c.rmsNormEps(), c.tieWordEmbeddings(), c.qkvBias(), c.outputBias(), c.mlpBias(), c.qkNorm(), c.initializerRange());
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, null, e.getMessage());
        }
    }

    /** The config.json fields of this config (no special token ids; float32). */
    public HfModelConfig toHf() {
        HfModelConfig.RopeScaling rs = switch (ropeScaling.type()) {
            case DEFAULT -> null;
            case LINEAR -> HfModelConfig.RopeScaling.linear(ropeScaling.factor());
            case LLAMA3 -> HfModelConfig.RopeScaling.llama3(ropeScaling.factor(), ropeScaling.lowFreqFactor(),
                    ropeScaling.highFreqFactor(), ropeScaling.originalMaxPositionEmbeddings());
        };
        return new HfModelConfig(family, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                maxPositions, rmsEps, ropeTheta, rs, tieEmbeddings, qkvBias, outputBias, mlpBias, qkNorm,
                null, List.of(), null, "float32", initStd);
    }
}

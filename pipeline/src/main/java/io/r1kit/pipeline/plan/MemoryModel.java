package io.r1kit.pipeline.plan;

import io.r1kit.model.arch.ModelConfig;

/**
 * Bytes of the pieces of a training or generation step on the CPU backend (fp32 host arrays), from
 * a model's shape. Each formula counts the arrays the code keeps alive, not a rule of thumb:
 * <ul>
 * <li>AdamW keeps two fp32 moments per parameter; {@code adam_moments: bf16} stores bf16-rounded
 *     values in the same fp32 arrays on the host, so it does not shrink them there.</li>
 * <li>Activations: r1kit's autograd graph holds every op's output until backward. Per token and
 *     decoder layer these are the two RMSNorm outputs, the attention input/output residual sums,
 *     the o_proj and down_proj outputs (6 × hidden), q, rotated q and the attention output
 *     (3 × heads × head_dim), k, rotated k and v (3 × kv_heads × head_dim), gate, up and the SwiGLU
 *     product (3 × intermediate), and the per-row RMSNorm / softmax statistics; q/k-norm models add
 *     their normed q and k. Outside the layers: the embedding output and the final norm output.</li>
 * <li>With gradient checkpointing each layer keeps only its input; backward recomputes one layer
 *     at a time, so one layer's activations come back as workspace.</li>
 * <li>The fused lm head never holds more than {@code 4M / vocab} rows of logits (16 MB) at once.</li>
 * </ul>
 */
public final class MemoryModel {
    private MemoryModel() {}

    /** Logits floats the fused lm head holds at once (LmHeadScores' chunk). */
    static final long LM_HEAD_CHUNK_FLOATS = 1L << 22;

    public static long parameters(ModelConfig c) {
        return c.parameterCount();
    }

    /** fp32 weights (or gradients: the same size). */
    public static long weightBytes(ModelConfig c) {
        return 4L * c.parameterCount();
    }

    /** AdamW's two fp32 moments. */
    public static long adamBytes(ModelConfig c) {
        return 8L * c.parameterCount();
    }

    /** Floats one decoder layer keeps per token for backward. */
    public static long layerFloatsPerToken(ModelConfig c) {
        long C = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim();
        long f = 6 * C + 3 * q + 3 * kv + 3L * c.intermediateSize() + 2 + c.numHeads();
        if (c.qkNorm()) f += q + kv + c.numHeads() + c.numKvHeads();
        return f;
    }

    /**
     * Bytes of activations a forward pass over {@code tokens} tokens keeps for backward: with
     * checkpointing only the layer inputs, without it every layer's saved tensors.
     */
    public static long activationBytes(ModelConfig c, long tokens, boolean checkpointing) {
        long C = c.hiddenSize(), L = c.numLayers();
        long outside = tokens * (2 * C + 2);   // embedding output, final norm output and its statistics, log-probs
        long layers = checkpointing ? tokens * L * C : tokens * L * layerFloatsPerToken(c);
        return 4L * (outside + layers);
    }

    /**
     * Bytes backward needs on top of the saved activations: the lm head's chunk of logits, and with
     * checkpointing the one layer it recomputes at a time.
     */
    public static long backwardWorkspaceBytes(ModelConfig c, long tokens, boolean checkpointing) {
        long head = Math.min(tokens, Math.max(1, LM_HEAD_CHUNK_FLOATS / c.vocabSize())) * c.vocabSize();
        return 4L * (head + (checkpointing ? tokens * layerFloatsPerToken(c) : 0));
    }

    /** k and v of all layers for {@code rows} sequences of {@code length} positions each. */
    public static long kvCacheBytes(ModelConfig c, long rows, long length) {
        return 4L * 2 * c.numLayers() * rows * length * c.numKvHeads() * c.headDim();
    }

    /** The decode step's logits buffer [rows, vocab] and activations of the rows in flight. */
    public static long decodeBufferBytes(ModelConfig c, long rows) {
        long perRow = c.vocabSize() + 4L * c.hiddenSize() + 3L * c.intermediateSize() + 4L * c.numHeads() * c.headDim();
        return 4L * rows * perRow;
    }
}

package io.r1kit.pipeline.plan;

import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.lora.LoraConfig;

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
 * <li>LoRA: the frozen weights have no gradient and no AdamW moments; the adapters (r × (in + out)
 *     per targeted projection) have both. Each adapted projection keeps per token A·x (r floats),
 *     B·(A·x), its scaled copy and the sum with the base output (3 × out floats). While rollouts decode
 *     with merged weights, the targeted weights' base values are held in a copy.</li>
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

    /** [in, out] of projection {@code module} of a decoder block. */
    static long[] projectionShape(ModelConfig c, String module) {
        long C = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), kv = (long) c.numKvHeads() * c.headDim(), I = c.intermediateSize();
        return switch (module) {
            case "q_proj" -> new long[] {C, q};
            case "k_proj", "v_proj" -> new long[] {C, kv};
            case "o_proj" -> new long[] {q, C};
            case "gate_proj", "up_proj" -> new long[] {C, I};
            case "down_proj" -> new long[] {I, C};
            default -> throw new IllegalArgumentException("lora: unknown projection " + module);
        };
    }

    /** LoRA adapter parameters of the whole model: r × (in + out) per targeted projection and layer. */
    public static long loraParameters(ModelConfig c, LoraConfig l) {
        long n = 0;
        for (String m : l.targetModules()) {
            long[] io = projectionShape(c, m);
            n += (long) l.r() * (io[0] + io[1]);
        }
        return n * c.numLayers();
    }

    /** Floats the adapter branches of one layer keep per token for backward: r + 3 × out per targeted projection. */
    public static long loraFloatsPerToken(ModelConfig c, LoraConfig l) {
        long f = 0;
        for (String m : l.targetModules()) f += l.r() + 3 * projectionShape(c, m)[1];
        return f;
    }

    /** Bytes of the targeted weights' base values, copied while rollouts decode with the adapters merged in. */
    public static long loraMergeCopyBytes(ModelConfig c, LoraConfig l) {
        long n = 0;
        for (String m : l.targetModules()) {
            long[] io = projectionShape(c, m);
            n += io[0] * io[1];
        }
        return 4L * n * c.numLayers();
    }
}

package io.r1kit.model.arch;

import io.r1kit.model.backend.RopeTables;
import io.r1kit.model.tensor.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Tiny configs of each family and helpers shared by the arch/generate tests. */
public final class ArchTestSupport {
    private ArchTestSupport() {}

    /** Llama 3 style: GQA 4/2, llama3 rope scaling with a small original context so all three frequency bands occur, untied. */
    public static ModelConfig llama3() {
        return ModelConfig.llama(97, 64, 96, 2, 4, 2)
                .withRope(500000.0, RopeTables.Scaling.llama3(8, 1, 4, 64), 256);
    }

    /** Qwen2: q/k/v biases, GQA 4/2, tied embeddings. */
    public static ModelConfig qwen2Tied() {
        return ModelConfig.qwen2(131, 48, 80, 2, 4, 2).withTieEmbeddings(true).withRope(1e6, RopeTables.Scaling.none(), 256);
    }

    /** Qwen3: q/k norm, explicit head_dim 16 with 4 heads on hidden 48 (q width 64 != 48), kv heads 1, untied. */
    public static ModelConfig qwen3() {
        return ModelConfig.qwen3(113, 48, 64, 2, 4, 1).withHeadDim(16).withRope(1e6, RopeTables.Scaling.none(), 256);
    }

    /** Llama 2 style, tied, MHA, no scaling. */
    public static ModelConfig llamaTied() {
        return ModelConfig.llama(89, 32, 64, 2, 2, 2).withTieEmbeddings(true).withRope(10000.0, RopeTables.Scaling.none(), 256);
    }

    /**
     * Overwrites every parameter with values that exercise it: matrices N(0, 0.15²) (big enough that
     * logits are O(1) and attention is far from uniform), biases N(0, 0.2²), norm weights 1 + N(0, 0.2²)
     * (HF's init of zero biases and unit norms would leave those code paths untested).
     */
    public static void perturb(CausalLM m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Parameter p : m.parameters()) {
            float[] d = p.data();
            boolean norm = p.name().endsWith("norm.weight") || p.name().endsWith("layernorm.weight");
            boolean bias = p.name().endsWith(".bias");
            for (int i = 0; i < d.length; i++) {
                double g = r.nextGaussian();
                d[i] = (float) (norm ? 1 + 0.2 * g : bias ? 0.2 * g : 0.15 * g);
            }
        }
    }

    public static Map<String, float[]> weights(CausalLM m) {
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Parameter p : m.parameters()) w.put(p.name(), p.data().clone());
        return w;
    }

    public static int[] randomIds(long seed, int n, int vocab) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(vocab);
        return ids;
    }
}

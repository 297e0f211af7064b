package io.r1kit.pipeline.plan;

import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.ops.F;
import io.r1kit.model.optim.GradClip;
import io.r1kit.model.tensor.Parameter;
import io.r1kit.model.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Measures what {@link MemoryModel} estimates: the live heap (after full collections) of a CPU
 * training step at its phase boundaries. {@code state} is the heap a model and its AdamW state
 * hold after one step (weights, gradients, moments); {@code activations} is what the next step's
 * forward adds before its backward starts (the graph's saved tensors). Both are differences from
 * the heap before the model was made, so unrelated live objects cancel out.
 */
public final class LiveHeapProbe {
    private LiveHeapProbe() {}

    /** Measured bytes: model + optimizer state, and the forward's saved activations. */
    public record Measured(long state, long activations) {
        public long total() { return state + activations; }
    }

    public static Measured measure(ModelConfig cfg, int B, int T, boolean checkpointing) {
        long base = liveHeap();
        CausalLM model = CausalLM.random(cfg, 1).gradientCheckpointing(checkpointing);
        List<Parameter> params = model.parameters();
        AdamW opt = new AdamW(params, AdamW.Config.defaults(1e-4f));
        SplittableRandom r = new SplittableRandom(5);
        int[] ids = new int[B * T], targets = new int[B * T], pos = new int[B * T];
        for (int i = 0; i < B * T; i++) {
            ids[i] = r.nextInt(cfg.vocabSize());
            targets[i] = r.nextInt(cfg.vocabSize());
            pos[i] = i % T;
        }
        Tensor loss = F.scale(F.sum(model.scoreTokens(ids, B, T, pos, null, targets, 1f, false).logprobs()), -1f / (B * T));
        loss.backward();
        GradClip.clipGlobalNorm(params, 1.0);
        opt.step();
        loss = null;
        long state = liveHeap() - base;
        Tensor loss2 = F.scale(F.sum(model.scoreTokens(ids, B, T, pos, null, targets, 1f, false).logprobs()), -1f / (B * T));
        long activations = liveHeap() - base - state;
        loss2.backward();    // the graph was live until here
        if (opt.params().isEmpty()) throw new AssertionError();
        return new Measured(state, activations);
    }

    /** Used heap after full collections (repeated until it stops shrinking). */
    public static long liveHeap() {
        Runtime rt = Runtime.getRuntime();
        long prev = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long used = rt.totalMemory() - rt.freeMemory();
            if (used >= prev - (1 << 16)) return Math.min(used, prev);
            prev = used;
        }
        return prev;
    }
}

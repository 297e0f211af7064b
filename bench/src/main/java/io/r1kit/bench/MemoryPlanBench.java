package io.r1kit.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1kit.model.arch.ModelConfig;
import io.r1kit.pipeline.plan.LiveHeapProbe;
import io.r1kit.pipeline.plan.MemoryModel;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench --suite memory}: the memory planner's estimate of a training step (weights,
 * gradients, AdamW moments, saved activations) against the live heap measured at the end of the
 * forward pass ({@link LiveHeapProbe}), for the quickstart's model and for Qwen2.5-0.5B's shape
 * with 4 of its 24 layers (same width and vocabulary; the heap of the full model is about 6x that
 * of 4 layers plus the embedding). r1kit only; no libtorch.
 */
final class MemoryPlanBench {
    private MemoryPlanBench() {}

    record Case(String model, ModelConfig config, int batch, int seqLen, boolean checkpointing) {}

    static List<Case> cases(boolean tiny) {
        if (tiny) {
            ModelConfig t = ModelConfig.llama(48, 32, 64, 2, 4, 4).withTieEmbeddings(true);
            return List.of(new Case("tiny-llama", t, 2, 16, false), new Case("tiny-llama", t, 2, 16, true));
        }
        ModelConfig q = TrainBench.qwen05b(4).withRope(1_000_000.0, TrainBench.qwen05b(4).ropeScaling(), 2048);
        return List.of(new Case("quickstart-toy", TrainBench.toy().config(), 8, 256, false),
                new Case("quickstart-toy", TrainBench.toy().config(), 8, 256, true),
                new Case("qwen2.5-0.5b-shape-4-layers", q, 4, 256, false),
                new Case("qwen2.5-0.5b-shape-4-layers", q, 4, 256, true));
    }

    static void run(boolean tiny, ObjectNode root, PrintStream log) {
        root.putObject("settings").put("suite", "memory")
                .put("measured", "live heap after full collections at the end of a training step's forward, minus the heap before the model was made")
                .put("estimated", "MemoryModel: 2 x fp32 weights (weights, gradients) + 2 x fp32 AdamW moments + saved activations")
                .put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        ArrayNode arr = root.putArray("memory");
        for (Case c : cases(tiny)) {
            LiveHeapProbe.Measured m = LiveHeapProbe.measure(c.config(), c.batch(), c.seqLen(), c.checkpointing());
            long state = 2 * MemoryModel.weightBytes(c.config()) + MemoryModel.adamBytes(c.config());
            long act = MemoryModel.activationBytes(c.config(), (long) c.batch() * c.seqLen(), c.checkpointing());
            double err = (state + act - (double) m.total()) / m.total();
            arr.addObject().put("model", c.model()).put("params", c.config().parameterCount()).put("batch", c.batch())
                    .put("seq_len", c.seqLen()).put("gradient_checkpointing", c.checkpointing())
                    .put("estimated_bytes", state + act).put("measured_bytes", m.total())
                    .put("estimated_activation_bytes", act).put("measured_activation_bytes", m.activations())
                    .put("relative_error", ModelSuites.round(err));
            log.printf(Locale.ROOT, "memory %s %dx%d checkpointing %s: estimated %,d bytes, measured %,d (%+.1f%%)%n", c.model(),
                    c.batch(), c.seqLen(), c.checkpointing(), state + act, m.total(), 100 * err);
        }
    }
}

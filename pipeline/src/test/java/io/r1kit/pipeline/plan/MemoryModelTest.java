package io.r1kit.pipeline.plan;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.arch.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The planner's estimate against the live heap of a real training step of the quickstart's model
 * (llama, hidden 96, FFN 256, 4 layers, 4 heads, tied; vocab 64 in place of the char tokenizer's)
 * at its pretrain micro-batch (8 × 256), with and without gradient checkpointing: within 20%.
 * What is compared is the live heap when the forward has finished (weights, gradients, AdamW
 * moments and the saved activations); the backward workspace (one chunk of logits, one recomputed
 * layer) comes and goes inside backward, where no full collection can be placed, and is left out
 * of both sides.
 */
class MemoryModelTest {
    static final ModelConfig TOY = ModelConfig.llama(64, 96, 256, 4, 4, 4).withTieEmbeddings(true).withRope(10000.0,
            ModelConfig.llama(64, 96, 256, 4, 4, 4).ropeScaling(), 256);

    @Test
    void estimateMatchesLiveHeapOfTheToyStep() {
        for (boolean ckpt : new boolean[] {false, true}) {
            LiveHeapProbe.Measured m = LiveHeapProbe.measure(TOY, 8, 256, ckpt);
            long state = MemoryModel.weightBytes(TOY) * 2 + MemoryModel.adamBytes(TOY);
            long act = MemoryModel.activationBytes(TOY, 8L * 256, ckpt);
            String msg = String.format("checkpointing %s: measured state %,d activations %,d; estimated state %,d activations %,d",
                    ckpt, m.state(), m.activations(), state, act);
            System.err.println(msg);
            double total = state + act;
            assertTrue(Math.abs(total - m.total()) <= 0.2 * m.total(), msg);
        }
    }
}

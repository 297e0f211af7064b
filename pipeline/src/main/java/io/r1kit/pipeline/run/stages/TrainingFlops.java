package io.r1kit.pipeline.run.stages;

import io.r1kit.grpo.GrpoConfig;

/**
 * Training compute of a stage, counted the usual way (Kaplan et al. 2020): a forward pass costs
 * 2·N FLOPs per token and a forward + backward pass 6·N, with N the model's parameter count
 * (embeddings included: with tied embeddings the output projection is a 2·hidden·vocab matmul per
 * token). Attention's own score/value products are left out (sequences here are short: at 256
 * positions and hidden 96 they add a few percent). Used to give distillation and RL the same
 * student compute ({@code train/flops} in {@code eval/<stage>.json}).
 */
final class TrainingFlops {
    private TrainingFlops() {}

    /** SFT: forward + backward over every trained token. */
    static double sft(long params, long tokens) {
        return 6.0 * params * tokens;
    }

    /**
     * GRPO over {@code tokens} rollout tokens (prompts + completions): generating them (a forward pass,
     * 2·N per token), the old-policy log-probs when the policy moves within a step (one more forward),
     * the reference log-probs when β &gt; 0 (one more), and {@code num_iterations} passes of forward +
     * backward (6·N per token each).
     */
    static double grpo(long params, long tokens, GrpoConfig c) {
        boolean old = c.numIterations() > 1 || c.numMiniBatches() > 1;
        double perToken = 2 + (old ? 2 : 0) + (c.beta() > 0 ? 2 : 0) + 6.0 * c.numIterations();
        return perToken * params * tokens;
    }
}

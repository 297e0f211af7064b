package io.r1kit.grpo.train;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Hooks of every trainer, for tests and progress displays; an exception thrown here aborts the run
 * as a crash would (what is checkpointed stays, so a resumed run continues from there).
 */
public interface TrainerListener {

    /** A listener that does nothing. */
    TrainerListener NONE = new TrainerListener() {};

    /** A listener of the steps only: {@code f} gets each step's number and metrics line. */
    static TrainerListener onSteps(BiConsumer<Long, Map<String, Object>> f) {
        return new TrainerListener() {
            @Override
            public void onStep(long step, Map<String, Object> metrics) {
                f.accept(step, metrics);
            }
        };
    }

    /** After each optimizer update, or update skipped for a NaN/Inf loss or gradient (trainers that report them: GRPO). */
    default void onUpdate(Update update) {}

    /** After the step's metrics line is written, before its eval and checkpoint. */
    default void onStep(long step, Map<String, Object> metrics) {}

    /**
     * One optimizer update.
     *
     * @param step          the step it belongs to (1-based)
     * @param pass          the pass over the step's batch ({@code num_iterations})
     * @param miniBatch     the mini-batch within the pass
     * @param meanRatio     mean of exp(logp − old) over the update's active tokens (exactly 1 on the first update of a step)
     * @param skipped       whether the update was not applied (NaN/Inf)
     */
    record Update(long step, int pass, int miniBatch, double loss, double gradNorm, double meanRatio,
                  double lowClipRatio, double highClipRatio, double activeTokens, boolean skipped) {}
}

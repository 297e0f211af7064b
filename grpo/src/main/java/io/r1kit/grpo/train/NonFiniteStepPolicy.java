package io.r1kit.grpo.train;

import java.util.function.Supplier;

/**
 * What a trainer does about steps whose loss or gradient is NaN/Inf: the step's update is skipped
 * (by the trainer), the step is counted here, and after {@code max_non_finite_steps} such steps in a
 * row the run stops with {@link NonFiniteLossException}, leaving the checkpoints written so far as
 * they are. Both counts are part of a checkpoint ({@link #streak()}, {@link #total()}).
 */
public final class NonFiniteStepPolicy {

    /** No limit: every non-finite step is skipped and counted, the run never stops for it. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private final String trainer;
    private final int maxInARow;
    private final String hint;
    private int streak;
    private long total;

    /**
     * @param trainer   the name that starts the error message ("grpo", "ppo", "sft")
     * @param maxInARow the {@code max_non_finite_steps} option (≥ 1)
     * @param hint      the last sentence of the error: what to try ("Lower learning_rate or check the rewards.")
     */
    public NonFiniteStepPolicy(String trainer, int maxInARow, String hint) {
        if (maxInARow < 1) throw new IllegalArgumentException(trainer + ": max_non_finite_steps must be ≥ 1, got " + maxInARow);
        this.trainer = trainer;
        this.maxInARow = maxInARow;
        this.hint = hint;
    }

    /** Continues the counts of a checkpoint. */
    public void restore(int streak, long total) {
        this.streak = streak;
        this.total = total;
    }

    /** Counts one finished step: a finite one ends the streak. */
    public void record(boolean finite) {
        if (finite) {
            streak = 0;
        } else {
            streak++;
            total++;
        }
    }

    /** Consecutive non-finite steps up to now. */
    public int streak() {
        return streak;
    }

    /** Non-finite steps of the whole run. */
    public long total() {
        return total;
    }

    /**
     * Stops the run when the streak reached the limit.
     *
     * @param step     steps completed (the last one counted)
     * @param lastGood the last checkpoint written, for the message (null: none yet)
     */
    public void check(long step, Supplier<String> lastGood) {
        if (streak == 0 || streak < maxInARow) return;
        String last = lastGood.get();
        throw new NonFiniteLossException(trainer + ": stopping after " + streak + " consecutive steps with NaN/Inf "
                + "loss or gradients (steps " + (step - streak + 1) + ".." + step + "; max_non_finite_steps = "
                + maxInARow + "). Those updates were skipped; the last good checkpoint is "
                + (last == null ? "(none written yet)" : last) + ". " + hint);
    }
}

package io.r1kit.grpo.train;

import java.util.function.Supplier;

/**
 * The step loop every trainer runs: one step, the non-finite-step check, the step's log line, then
 * eval and checkpoint on their schedules. The final step is always evaluated and checkpointed,
 * evaluation first, so a resumed finished run does not repeat the eval; a run resumed at its end
 * makes no step and so neither.
 */
public final class TrainingLoop {

    /** A trainer's part of the loop. */
    public interface Steps {
        /** Steps completed so far. */
        long step();

        /**
         * Runs one step, counts it in {@link #step()} and records in the {@link NonFiniteStepPolicy}
         * whether its loss and gradients were finite (a non-finite step's update is skipped).
         */
        void runStep();

        /** After the non-finite check: the step's log line, for trainers that write it apart from the step. */
        default void log(long step) {}

        /** Evaluates (trainers with an eval set). */
        default void evaluate(long step) {}

        /** Writes a checkpoint. */
        default void save(long step) {}

        /** After eval and checkpoint: true to stop here (a simulated kill in tests). */
        default boolean halt(long step) {
            return false;
        }
    }

    /**
     * When eval and checkpoints come.
     *
     * @param totalSteps the step the run ends at
     * @param evalSteps  evaluate every this many steps (0: only at the end)
     * @param saveSteps  checkpoint every this many steps (0: only at the end)
     */
    public record Schedule(long totalSteps, int evalSteps, int saveSteps) {
        boolean evalDue(long step) {
            return (evalSteps > 0 && step % evalSteps == 0) || step == totalSteps;
        }

        boolean saveDue(long step) {
            return (saveSteps > 0 && step % saveSteps == 0) || step == totalSteps;
        }
    }

    private TrainingLoop() {}

    /**
     * Runs steps until {@code schedule.totalSteps()}.
     *
     * @param lastGood the newest checkpoint for the non-finite error message (null: none)
     * @return false when {@link Steps#halt} stopped it early
     */
    public static boolean run(Steps steps, Schedule schedule, NonFiniteStepPolicy nonFinite, Supplier<String> lastGood) {
        while (steps.step() < schedule.totalSteps()) {
            steps.runStep();
            long step = steps.step();
            nonFinite.check(step, lastGood);
            steps.log(step);
            if (schedule.evalDue(step)) steps.evaluate(step);
            if (schedule.saveDue(step)) steps.save(step);
            if (steps.halt(step)) return false;
        }
        return true;
    }
}

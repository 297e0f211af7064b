package io.r1kit.grpo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The order of the loop's hooks, its schedules and the non-finite-step policy, on a scripted trainer. */
class TrainingLoopTest {

    /** Records every hook; the steps in {@code nonFinite} report a NaN/Inf loss. */
    private static final class Script implements TrainingLoop.Steps {
        final List<String> calls = new ArrayList<>();
        final NonFiniteStepPolicy policy;
        final Set<Long> nonFinite;
        final long haltAt;
        long step;

        Script(NonFiniteStepPolicy policy, Set<Long> nonFinite, long haltAt) {
            this.policy = policy;
            this.nonFinite = nonFinite;
            this.haltAt = haltAt;
        }

        public long step() { return step; }
        public void runStep() { step++; policy.record(!nonFinite.contains(step)); calls.add("step " + step); }
        public void log(long s) { calls.add("log " + s); }
        public void evaluate(long s) { calls.add("eval " + s); }
        public void save(long s) { calls.add("save " + s); }
        public boolean halt(long s) { return s == haltAt; }
    }

    @Test
    void evalComesBeforeTheCheckpointAndTheLastStepHasBoth() {
        Script s = new Script(new NonFiniteStepPolicy("t", 3, ""), Set.of(), -1);
        assertTrue(TrainingLoop.run(s, new TrainingLoop.Schedule(5, 2, 3), s.policy, () -> null));
        assertEquals(List.of("step 1", "log 1", "step 2", "log 2", "eval 2", "step 3", "log 3", "save 3", "step 4", "log 4", "eval 4",
                "step 5", "log 5", "eval 5", "save 5"), s.calls);
    }

    @Test
    void aRunAtItsEndMakesNoStepAndAHaltStopsAfterTheCheckpoint() {
        Script done = new Script(new NonFiniteStepPolicy("t", 3, ""), Set.of(), -1);
        done.step = 4;
        assertTrue(TrainingLoop.run(done, new TrainingLoop.Schedule(4, 1, 1), done.policy, () -> null));
        assertEquals(List.of(), done.calls);

        Script halted = new Script(new NonFiniteStepPolicy("t", 3, ""), Set.of(), 2);
        assertFalse(TrainingLoop.run(halted, new TrainingLoop.Schedule(4, 0, 2), halted.policy, () -> null));
        assertEquals(List.of("step 1", "log 1", "step 2", "log 2", "save 2"), halted.calls);
    }

    @Test
    void theRunStopsAtTheStreakLimitBeforeTheStepsLogLine() {
        Script s = new Script(new NonFiniteStepPolicy("ppo", 2, "Lower learning_rate."), Set.of(2L, 4L, 5L), -1);
        var e = assertThrows(NonFiniteLossException.class,
                () -> TrainingLoop.run(s, new TrainingLoop.Schedule(10, 0, 0), s.policy, () -> "ck/checkpoint-3"));
        assertEquals("ppo: stopping after 2 consecutive steps with NaN/Inf loss or gradients (steps 4..5; max_non_finite_steps = 2). "
                + "Those updates were skipped; the last good checkpoint is ck/checkpoint-3. Lower learning_rate.", e.getMessage());
        assertEquals("step 5", s.calls.get(s.calls.size() - 1));
        assertEquals(3, s.policy.total());
        assertEquals(2, s.policy.streak());
    }

    @Test
    void theStreakContinuesFromACheckpoint() {
        NonFiniteStepPolicy p = new NonFiniteStepPolicy("grpo", 3, "");
        p.restore(2, 5);
        p.record(false);
        var e = assertThrows(NonFiniteLossException.class, () -> p.check(9, () -> null));
        assertTrue(e.getMessage().contains("steps 7..9") && e.getMessage().contains("(none written yet)"), e.getMessage());
        assertEquals(6, p.total());
        p.record(true);
        p.check(10, () -> null);
        assertEquals(0, p.streak());
        assertThrows(IllegalArgumentException.class, () -> new NonFiniteStepPolicy("sft", 0, ""));
    }
}

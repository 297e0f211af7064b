package io.r1kit.pipeline.plan;

import io.r1kit.pipeline.run.Pipeline;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The check a CPU run passes before its first stage: every stage's plan must fit in the JVM's max
 * heap. A run whose plan cannot be made (a model directory a stage downloads or writes later, an
 * unreadable config.json) starts with a warning: the check refuses only what it could measure.
 * Rollout micro-batches are planned with every row at full length, an upper bound; a run known to
 * fit can skip the check with {@code -Dr1kit.memoryCheck=false}.
 */
public final class MemoryGate {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryGate.class);

    private MemoryGate() {}

    /** System property that turns the check off ({@code -Dr1kit.memoryCheck=false} in R1KIT_JAVA_OPTS), for plans known to be pessimistic. */
    public static final String SWITCH = "r1kit.memoryCheck";

    public static void refuseIfTooBig(Pipeline p) {
        if (!Boolean.parseBoolean(System.getProperty(SWITCH, "true"))) {
            LOG.warn("memory plan: not checked (-D{}=false)", SWITCH);
            return;
        }
        List<StagePlan> plans;
        try {
            plans = MemoryPlanner.plan(p);
        } catch (RuntimeException e) {   // ConfigException included: a model directory that is not there yet, a shape it cannot read
            LOG.warn("memory plan: not checked ({}: {})", e.getClass().getSimpleName(), e.getMessage());
            return;
        }
        MemoryCheck.refuseIfTooBig(plans, MemoryCheck.cpuCapacity(), "cpu");
    }
}

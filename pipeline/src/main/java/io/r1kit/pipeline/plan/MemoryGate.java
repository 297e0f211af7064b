package io.r1kit.pipeline.plan;

import io.r1kit.pipeline.run.Pipeline;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The check a CPU run passes before its first stage: every stage's plan must fit in the JVM's max
 * heap. A run whose plan cannot be made (a model directory a stage downloads or writes later, an
 * unreadable config.json) starts with a warning: the check refuses only what it could measure.
 */
public final class MemoryGate {
    private static final Logger LOG = LoggerFactory.getLogger(MemoryGate.class);

    private MemoryGate() {}

    public static void refuseIfTooBig(Pipeline p) {
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

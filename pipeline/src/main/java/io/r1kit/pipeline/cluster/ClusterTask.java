package io.r1kit.pipeline.cluster;

import java.io.Serializable;

/**
 * The work of one executor task: a function of one item, serialised to the executors together with
 * everything it holds. It must give the same result however often it runs (tasks are retried).
 */
@FunctionalInterface
public interface ClusterTask<I extends Serializable, O extends Serializable> extends Serializable {
    O run(I item) throws Exception;
}

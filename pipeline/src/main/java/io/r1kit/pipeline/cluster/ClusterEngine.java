package io.r1kit.pipeline.cluster;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;

/**
 * A running distributed engine (a Spark application): runs a {@link ClusterTask} on every item of a
 * list, one task per item, on the executors, and ships model checkpoints to them. The pipeline sees
 * only this interface; the implementation lives in the {@code spark} module and is found through
 * {@link ClusterEngineProvider} with {@link java.util.ServiceLoader}.
 */
public interface ClusterEngine extends AutoCloseable {

    /** One line for the run log: engine, master, executors. */
    String describe();

    /**
     * Runs {@code task} on each item, one task per item, and returns the results in item order. A task
     * whose executor dies is run again by the engine, so {@code task} must be a pure function of its item.
     *
     * @param job      a short name for the log and the engine's UI
     * @param progress called from an engine thread with (tasks done, tasks in the job) as tasks finish
     */
    <I extends Serializable, O extends Serializable> List<O> map(String job, List<I> items, ClusterTask<I, O> task,
                                                                  TaskProgress progress);

    /**
     * Makes a model directory readable by the executors: broadcast (its files' bytes travel with the
     * job) when it has at most {@code broadcastMaxBytes} bytes, else its path, which every executor must
     * be able to read.
     */
    ModelShipment ship(Path modelDir, long broadcastMaxBytes) throws IOException;

    @Override
    void close();

    /** Progress of one {@link #map} call. */
    @FunctionalInterface
    interface TaskProgress {
        void tasksDone(int done, int total);
    }
}

package io.r1kit.pipeline.run.stages;

import io.r1kit.pipeline.cluster.TaskResources;

/**
 * One worker per executor thread, kept across the tasks of a job: a task whose key (run, stage, model)
 * equals the thread's current worker's reuses it (the model and tokenizer are loaded once per
 * thread, not per chunk); another key closes the old worker and builds a new one.
 */
final class ThreadWorkers<W extends AutoCloseable> {
    /** Builds a worker for a key. */
    @FunctionalInterface
    interface Factory<W> {
        W create() throws Exception;
    }

    private record Keyed<W>(String key, W worker) {}

    private final ThreadLocal<Keyed<W>> current = new ThreadLocal<>();

    W get(String jobKey, Factory<W> factory) throws Exception {
        // a worker holds models on its task's GPU: another GPU on this thread needs another worker
        String key = TaskResources.gpu() == null ? jobKey : jobKey + "@gpu" + TaskResources.gpu();
        Keyed<W> k = current.get();
        if (k != null && k.key().equals(key)) return k.worker();
        if (k != null) {
            current.remove();
            k.worker().close();
        }
        W w = factory.create();
        current.set(new Keyed<>(key, w));
        return w;
    }
}

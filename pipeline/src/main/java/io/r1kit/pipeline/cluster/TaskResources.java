package io.r1kit.pipeline.cluster;

import java.util.concurrent.Callable;

/**
 * What the engine assigned to the task running on this executor thread: its GPU address, when the
 * cluster schedules GPUs ({@code spark.executor.resource.gpu.amount}, {@code
 * spark.task.resource.gpu.amount}). The engine sets it around each task; the tasks' workers read it
 * to place their models on that GPU.
 */
public final class TaskResources {
    private static final ThreadLocal<String> GPU = new ThreadLocal<>();

    private TaskResources() {}

    /** Runs {@code body} with {@code gpuAddress} (null: none assigned) as this thread's task GPU. */
    public static <T> T withGpu(String gpuAddress, Callable<T> body) throws Exception {
        String before = GPU.get();
        if (gpuAddress == null) GPU.remove(); else GPU.set(gpuAddress);
        try {
            return body.call();
        } finally {
            if (before == null) GPU.remove(); else GPU.set(before);
        }
    }

    /** The GPU address assigned to this thread's task, or null. */
    public static String gpu() {
        return GPU.get();
    }

    /**
     * The {@code device:} a task's worker selects: {@code cuda:<address>} when the engine assigned a GPU
     * and the run's device is {@code auto} or a CUDA device (the assignment decides which one on a
     * cluster); otherwise the run's own ({@code cpu} and {@code emulated} stay as written).
     */
    public static String device(String configured) {
        String gpu = GPU.get();
        if (gpu == null) return configured;
        String c = configured == null ? "auto" : configured.trim();
        if (c.equals("auto") || c.equals("cuda") || c.startsWith("cuda:")) return "cuda:" + gpu;
        return configured;
    }
}

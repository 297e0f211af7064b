package io.r1kit.pipeline.config;

import io.r1kit.grpo.config.Doc;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code cluster:} section of a run: where the sampling-heavy work of a stage runs when it does
 * not run in this JVM. Absent (the default): everything runs in-process and no engine is loaded.
 */
public record ClusterConfig(
        @Doc(value = "the engine that runs the distributed work: `spark` (the `spark` module; `bin/r1kit` builds it when a run's config "
                + "has a `cluster:` section). See [cluster.md](cluster.md).", unset = "required")
        String engine,
        @Doc(value = "the Spark master URL, passed through: `local[N]`, `local-cluster[W,C,MB]` (W executor JVMs on this machine, "
                + "C cores and MB MiB each; r1kit prepares the stand-in `SPARK_HOME` it needs), `spark://host:7077`, `yarn`, `k8s://…`.",
                unset = "the `spark.master` that `spark-submit` sets")
        String master,
        @Doc("Spark properties passed through as they are (executor memory and cores, GPU resources, …), e.g. "
                + "`{spark.executor.memory: 4g, spark.executor.resource.gpu.amount: 1}`.")
        Map<String, Object> conf,
        @Doc("models with at most this many bytes of files are broadcast to the executors; larger ones are read from their "
                + "checkpoint directory, which every executor must then be able to read at the same path.")
        Long broadcastMaxBytes,
        @Doc("prompt chunks (`prompt_batch_size` prompts each, one Spark task per chunk) per Spark job; the driver writes the "
                + "results of a job before it starts the next, so this bounds the driver's memory.")
        Integer chunksPerJob,
        @Doc("GRPO and PPO rollouts: prompts per Spark task. Each step's prompts are split into slices of this many, each "
                + "sampled with the step's seed from its first prompt's index, so the completions equal the in-process ones; "
                + "more per task batches more rows per forward pass, fewer spreads a step over more executors.")
        Integer rolloutPromptsPerTask,
        @Doc("data sets the run generates (`data: {name: {generate: …}}`) with more than this many examples are generated on "
                + "the executors, this many per task (every example is a function of the seed and its index, so the file is the "
                + "in-process one); smaller sets are generated in this JVM.")
        Integer generateChunk) {

    /** The engines this version knows. */
    public static final List<String> ENGINES = List.of("spark");

    public ClusterConfig {
        if (engine == null) throw new IllegalArgumentException("cluster.engine is required: one of " + ENGINES);
        if (!ENGINES.contains(engine)) throw new IllegalArgumentException("cluster.engine is '" + engine + "'; allowed: " + ENGINES);
        if (master != null && master.isBlank()) throw new IllegalArgumentException("cluster.master is empty; give a Spark master URL or leave it out");
        Map<String, Object> c = new LinkedHashMap<>();
        if (conf != null) {
            conf.forEach((k, v) -> {
                if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) {
                    throw new IllegalArgumentException("cluster.conf." + k + " must be a single value (text, number or boolean), got " + v);
                }
                c.put(k, v);
            });
        }
        conf = java.util.Collections.unmodifiableMap(c);
        if (broadcastMaxBytes == null) broadcastMaxBytes = 512L << 20;
        if (broadcastMaxBytes < 0) throw new IllegalArgumentException("cluster.broadcast_max_bytes must be ≥ 0, got " + broadcastMaxBytes);
        if (chunksPerJob == null) chunksPerJob = 64;
        if (chunksPerJob < 1) throw new IllegalArgumentException("cluster.chunks_per_job must be ≥ 1, got " + chunksPerJob);
        if (rolloutPromptsPerTask == null) rolloutPromptsPerTask = 1;
        if (rolloutPromptsPerTask < 1) throw new IllegalArgumentException("cluster.rollout_prompts_per_task must be ≥ 1, got " + rolloutPromptsPerTask);
        if (generateChunk == null) generateChunk = 50_000;
        if (generateChunk < 1) throw new IllegalArgumentException("cluster.generate_chunk must be ≥ 1, got " + generateChunk);
    }

    /** The Spark properties as text, in the order written. */
    public Map<String, String> confStrings() {
        Map<String, String> out = new LinkedHashMap<>();
        conf.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }
}

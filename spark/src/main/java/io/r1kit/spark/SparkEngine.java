package io.r1kit.spark;

import io.r1kit.pipeline.cluster.ClusterEngine;
import io.r1kit.pipeline.cluster.ClusterTask;
import io.r1kit.pipeline.cluster.ModelShipment;
import io.r1kit.pipeline.cluster.SharedCheckpoint;
import io.r1kit.pipeline.cluster.TaskResources;
import io.r1kit.pipeline.config.ClusterConfig;
import io.r1kit.pipeline.config.ConfigException;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;

import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A Spark application (a {@link JavaSparkContext}) as the run's {@link ClusterEngine}. The master
 * and the {@code conf} properties of {@code cluster:} pass through. Local masters bind to 127.0.0.1
 * unless the properties say otherwise; {@code local-cluster[...]} gets a generated stand-in
 * {@code SPARK_HOME} ({@link SparkHomeStandIn}); other masters get this JVM's jars as {@code spark.jars}
 * (Spark's and Scala's own excepted) unless {@code spark.jars} is given.
 */
final class SparkEngine implements ClusterEngine {
    private static final AtomicLong JOBS = new AtomicLong();
    private static final AtomicReference<JavaSparkContext> EXISTING = new AtomicReference<>();

    private final JavaSparkContext sc;
    private final String master;
    private final boolean setTestingProperties, owned;

    private SparkEngine(JavaSparkContext sc, String master, boolean setTestingProperties, boolean owned) {
        this.sc = sc;
        this.master = master;
        this.setTestingProperties = setTestingProperties;
        this.owned = owned;
    }

    /**
     * Makes engines started in this JVM use {@code sc} (an application that embeds r1kit, or tests that
     * share one context) instead of starting their own; they do not stop it. Null: start their own again.
     */
    static void useExistingContext(JavaSparkContext sc) {
        EXISTING.set(sc);
    }

    static SparkEngine start(ClusterConfig c, Consumer<String> log) {
        quietSparkLogs();
        JavaSparkContext existing = EXISTING.get();
        if (existing != null && !existing.sc().isStopped()) {
            log.accept("cluster: using this JVM's Spark context (master " + existing.master() + "); cluster.master and cluster.conf "
                    + "do not apply to it");
            return new SparkEngine(existing, existing.master(), false, false);
        }
        SparkConf conf = new SparkConf(true);   // with spark-submit's spark.* system properties
        if (c.master() != null) conf.setMaster(c.master());
        if (!conf.contains("spark.master")) {
            throw new ConfigException("cluster.master is not set and this JVM was not started by spark-submit (no spark.master): "
                    + "give a master URL, e.g. --set 'cluster.master=local-cluster[2,1,1024]' or spark://host:7077");
        }
        conf.setIfMissing("spark.app.name", "r1kit");
        c.confStrings().forEach(conf::set);
        String master = conf.get("spark.master");
        // executors read tokenizers offline, as the driver does
        if (!conf.contains("spark.executor.extraJavaOptions")) {
            // r1kit's kernels use as many threads as the JVM sees cores; an executor gets the cores Spark gives it
            Integer cores = executorCores(master, conf.get("spark.executor.cores", null));
            conf.set("spark.executor.extraJavaOptions", "-Dai.djl.offline=true -Dorg.slf4j.simpleLogger.log.org.apache.spark=warn"
                    + (cores == null ? "" : " -Dr1kit.threads=" + cores));
        }
        boolean testing = false;
        if (master.startsWith("local")) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        if (master.startsWith("local-cluster")) {
            // Spark's Worker takes SPARK_HOME from spark.test.home in its testing mode: the way to give the embedded
            // workers a home without an installation; their executors also get this JVM's class path then
            try {
                Path home = SparkHomeStandIn.prepare(SparkHomeStandIn.cacheRoot(), System.getProperty("java.class.path"));
                System.setProperty("spark.testing", "true");
                System.setProperty("spark.test.home", home.toString());
                testing = true;
                log.accept("cluster: local-cluster executors use the stand-in SPARK_HOME " + home);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the stand-in SPARK_HOME for " + master, e);
            }
            conf.setIfMissing("spark.executorEnv.SPARK_SCALA_VERSION", SparkHomeStandIn.SCALA_VERSION);
            conf.setIfMissing("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1");
        } else if (!master.startsWith("local") && !conf.contains("spark.jars")) {
            conf.set("spark.jars", String.join(",", applicationJars(System.getProperty("java.class.path"))));
        }
        JavaSparkContext sc = new JavaSparkContext(conf);
        return new SparkEngine(sc, master, testing, true);
    }

    /** The cores of each executor: {@code spark.executor.cores}, else C of {@code local-cluster[W,C,MB]}, else null (unknown). */
    static Integer executorCores(String master, String executorCores) {
        if (executorCores != null) return Integer.valueOf(executorCores.trim());
        var m = Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*(\\d+)\\s*,\\s*\\d+\\s*]").matcher(master);
        return m.matches() ? Integer.valueOf(m.group(1)) : null;
    }

    /** The jars of a class path that executors need besides Spark's own (Spark's and Scala's artifacts are theirs). */
    static List<String> applicationJars(String classPath) {
        List<String> out = new ArrayList<>();
        for (String p : classPath.split(File.pathSeparator)) {
            String n = Path.of(p).getFileName() == null ? "" : Path.of(p).getFileName().toString();
            if (!n.endsWith(".jar") || n.matches("spark-.*_2\\.13-.*\\.jar") || n.startsWith("scala-")) continue;
            out.add(Path.of(p).toAbsolutePath().toUri().toString());
        }
        return out;
    }

    /** Spark logs through the run's slf4j-simple logger: keep its INFO chatter out of the run log. */
    private static void quietSparkLogs() {
        for (String pkg : List.of("org.apache.spark", "org.sparkproject", "org.apache.hadoop", "io.netty")) {
            String key = "org.slf4j.simpleLogger.log." + pkg;
            if (System.getProperty(key) == null) System.setProperty(key, "warn");
        }
    }

    @Override
    public String describe() {
        return "spark " + sc.version() + " (master " + master + ", application " + sc.sc().applicationId() + ")";
    }

    @Override
    public <I extends Serializable, O extends Serializable> List<O> map(String job, List<I> items, ClusterTask<I, O> task,
                                                                         TaskProgress progress) {
        String group = "r1kit-" + JOBS.incrementAndGet();
        sc.setJobGroup(group, job, false);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread watcher = Thread.ofVirtual().name(group + "-progress").start(() -> watch(group, items.size(), progress, running));
        try {
            return sc.parallelize(items, Math.max(1, items.size())).map(new TaskFunction<>(task)).collect();
        } finally {
            running.set(false);
            watcher.interrupt();
            sc.clearJobGroup();
            progress.tasksDone(items.size(), items.size());
        }
    }

    /** Reports the job group's finished tasks once a second while it runs. */
    private void watch(String group, int total, TaskProgress progress, AtomicBoolean running) {
        int last = -1;
        while (running.get()) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            int done = 0;
            for (int jobId : sc.statusTracker().getJobIdsForGroup(group)) {
                SparkJobInfo ji = sc.statusTracker().getJobInfo(jobId);
                if (ji == null) continue;
                for (int stageId : ji.stageIds()) {
                    SparkStageInfo si = sc.statusTracker().getStageInfo(stageId);
                    if (si != null) done += si.numCompletedTasks();
                }
            }
            if (done != last && running.get()) progress.tasksDone(Math.min(done, total), total);
            last = done;
        }
    }

    @Override
    public ModelShipment ship(Path modelDir, long broadcastMaxBytes) throws IOException {
        long bytes = SharedCheckpoint.sizeOf(modelDir);
        if (bytes > broadcastMaxBytes) return new SharedCheckpoint(modelDir.toAbsolutePath().toString(), bytes);
        return new BroadcastCheckpoint(sc.broadcast(BroadcastCheckpoint.read(modelDir)), modelDir.getFileName().toString(), bytes);
    }

    @Override
    public void close() {
        if (!owned) return;
        try {
            sc.stop();
        } finally {
            if (setTestingProperties) {
                System.clearProperty("spark.testing");
                System.clearProperty("spark.test.home");
            }
        }
    }

    /** A {@link ClusterTask} as Spark's function type. */
    private record TaskFunction<I extends Serializable, O extends Serializable>(ClusterTask<I, O> task) implements Function<I, O> {
        /** Runs the task with the GPU Spark assigned to it (the first address of its {@code gpu} resource), if any. */
        @Override
        public O call(I item) throws Exception {
            TaskContext tc = TaskContext.get();
            ResourceInformation gpu = tc == null ? null : tc.resourcesJMap().get("gpu");
            String address = gpu == null || gpu.addresses().length == 0 ? null : gpu.addresses()[0];
            return TaskResources.withGpu(address, () -> task.run(item));
        }
    }
}

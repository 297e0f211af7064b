package io.r1kit.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.run.DataSets;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDirectory;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Distributed rejection sampling in {@code local[2]} (two task threads in this JVM) against the same run
 * in-process. The classes share one Spark context (it takes seconds to start).
 */
class ClusterSamplingTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static JavaSparkContext sc;

    @BeforeAll
    static void startSpark() {
        sc = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("r1kit-test")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false"));
        SparkEngineProvider.useExistingContext(sc);
    }

    @AfterAll
    static void stopSpark() {
        SparkEngineProvider.useExistingContext(null);
        if (sc != null) sc.stop();
    }

    static final String CLUSTER = "cluster: {engine: spark, master: 'local[2]', chunks_per_job: 2}";

    @Test
    void distributedRejectionSamplingWritesTheInProcessFilesByteForByte(@TempDir Path tmp) throws Exception {
        Path cfgA = tmp.resolve("a.yaml"), cfgB = tmp.resolve("b.yaml");
        Files.writeString(cfgA, TinyRun.config(24, 70, "", ""));
        Files.writeString(cfgB, TinyRun.config(24, 70, "", CLUSTER));

        // in-process, in a JVM with Spark on its class path: without cluster: no Spark class is loaded
        Path a = tmp.resolve("in-process"), classLog = tmp.resolve("classes.log");
        TinyRun.Result ra = TinyRun.childJvm(classLog, "run", cfgA.toString(), "--run-dir", a.toString());
        assertEquals(0, ra.exit(), ra.err());
        assertTrue(Files.readString(classLog).contains("io.r1kit.pipeline.run.stages.RejectionSamplingStage"), "the class log is complete");
        assertEquals(List.of(), TinyRun.sparkClasses(classLog));
        assertFalse(Files.exists(a.resolve("stages/rejection/cluster.json")));

        Path b = tmp.resolve("cluster");
        TinyRun.Result r = TinyRun.cli("run", cfgB.toString(), "--run-dir", b.toString());
        assertEquals(0, r.exit(), r.err());
        TinyRun.assertSameOutputs(a, b);

        // 24 prompts in chunks of 4: 6 tasks, 2 chunks per job: 3 jobs; local[2] runs them in this JVM
        JsonNode report = JSON.readTree(b.resolve("stages/rejection/cluster.json").toFile());
        assertEquals(3, report.get("jobs").asInt());
        assertEquals(6, report.get("tasks").asInt());
        assertEquals(24 * 3, report.get("samples").asInt());
        assertEquals("broadcast", report.get("model_shipped_by").asText());
        assertTrue(report.get("model_bytes").asLong() > 0);
        assertEquals(List.of(ProcessHandle.current().pid()), List.of(report.get("executor_pids").get(0).asLong()));
        String log = Files.readString(b.resolve("run.log"));
        assertTrue(log.contains("cluster job 3: 8 prompts, 2 tasks, 24 samples"), log);
        // the evals ran on the cluster too: 70 prompts in chunks of 64, 2 tasks each
        assertTrue(log.contains("rejection: cluster eval: 70 samples"), log);
        assertTrue(log.contains("final_eval: cluster eval: 140 samples"), log);

        // interrupt the distributed stage after 5 prompts (in the middle of the second chunk), with a torn line
        // after them: the rerun resumes at prompt 5 on the cluster and ends with the in-process files again
        Path rs = b.resolve("stages/rejection/rejection");
        List<String> progress = Files.readAllLines(rs.resolve("progress.jsonl"));
        JsonNode cut = JSON.readTree(progress.get(4));
        Files.writeString(rs.resolve("progress.jsonl"), String.join("\n", progress.subList(0, 5)) + "\n");
        for (String f : List.of("accepted", "rejected")) {
            byte[] all = Files.readAllBytes(rs.resolve(f + ".jsonl"));
            byte[] kept = Arrays.copyOf(all, cut.get(f + "_bytes").intValue());
            Files.write(rs.resolve(f + ".jsonl"), kept);
            Files.writeString(rs.resolve(f + ".jsonl"), "{\"id\":\"torn", StandardOpenOption.APPEND);
        }
        // killed while sampling: no mix and no SFT checkpoint yet
        Files.delete(rs.resolve("sft_mix.jsonl"));
        try (var walk = Files.walk(b.resolve("checkpoints/rejection"))) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        for (String st : List.of("rejection", "final_eval")) Files.delete(b.resolve("stages/" + st + ".json"));
        TinyRun.Result again = TinyRun.cli("run", cfgB.toString(), "--run-dir", b.toString(), "--resume");
        assertEquals(0, again.exit(), again.err());
        assertTrue(Files.readString(b.resolve("run.log")).contains("rejection sampling: resuming at prompt 5 of 24"), "the sampler resumed");
        TinyRun.assertSameOutputs(a, b);
    }

    @Test
    void grpoAndPpoRolloutsOnTheClusterGiveTheInProcessRunsSamplesMetricsAndWeights(@TempDir Path tmp) throws Exception {
        Path cfgA = tmp.resolve("a.yaml"), cfgB = tmp.resolve("b.yaml");
        Files.writeString(cfgA, TinyRun.rlConfig(""));
        Files.writeString(cfgB, TinyRun.rlConfig("cluster: {engine: spark, master: 'local[2]', rollout_prompts_per_task: 2}"));
        Path a = tmp.resolve("in-process"), b = tmp.resolve("cluster");
        TinyRun.Result ra = TinyRun.cli("run", cfgA.toString(), "--run-dir", a.toString());
        assertEquals(0, ra.exit(), ra.err());
        TinyRun.Result rb = TinyRun.cli("run", cfgB.toString(), "--run-dir", b.toString());
        assertEquals(0, rb.exit(), rb.err());

        TinyRun.assertSameRlOutputs(a, b);
        List<JsonNode> raw = Files.readAllLines(b.resolve("metrics.jsonl")).stream().map(TinyRun::json)
                .filter(m -> m.has("cluster/tasks")).toList();
        assertEquals(5, raw.size(), "each RL step reports its cluster tasks");
        // 3 prompts in slices of 2: 2 tasks per step; the weights change every step, so each step ships them
        for (JsonNode m : raw) {
            assertEquals(2, m.get("cluster/tasks").asInt(), m.toString());
            assertTrue(m.get("cluster/shipped_bytes").asLong() > 0, m.toString());
        }
        // the shipped snapshots are gone once the stage ends
        assertFalse(Files.exists(b.resolve("stages/r1_zero/rollout-policy")));
    }

    @Test
    void loraStagesWithRolloutsOnTheClusterAreRefusedBeforeAnyWork(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("lora.yaml");
        String yaml = TinyRun.rlConfig("cluster: {engine: spark, master: 'local[2]'}");
        Files.writeString(cfg, yaml.replace("eval_steps: 0}", "eval_steps: 0, lora: {}}"));
        TinyRun.Result r = TinyRun.cli("validate", cfg.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("stage 'r1_zero' has lora: and the run has a cluster: section"), r.err());
        assertTrue(r.err().contains("lora.yaml"), "the error names the file: " + r.err());
    }

    @Test
    void generatedDataSetsAboveTheChunkAreWrittenByTheExecutorsByteForByte(@TempDir Path tmp) throws Exception {
        String cluster = "cluster: {engine: spark, master: 'local[2]', generate_chunk: 7, chunks_per_job: 2}";
        Set<Integer> jobsBefore = jobIds();
        RunContext in = context(TinyRun.config(24, 3, "", ""), tmp.resolve("in-process"));
        RunContext on = context(TinyRun.config(24, 3, "", cluster), tmp.resolve("cluster"));
        try {
            for (String set : List.of("corpus", "train", "test")) {
                Path a = in.data().generate(set, spec(in, set)), b = on.data().generate(set, spec(on, set));
                assertEquals(Files.readString(a), Files.readString(b), set);
            }
            assertEquals(40, Files.readAllLines(tmp.resolve("cluster/data/corpus.jsonl")).size());
        } finally {
            on.cluster().close();
        }
        // 40 and 24 examples in ranges of 7: 6 and 4 tasks; the 3 test examples stay in this JVM
        int tasks = 0, jobs = 0;
        for (int id : jobIds()) {
            if (jobsBefore.contains(id)) continue;
            jobs++;
            for (int stage : sc.statusTracker().getJobInfo(id).stageIds()) tasks += sc.statusTracker().getStageInfo(stage).numTasks();
        }
        assertEquals(3 + 2, jobs, "2 ranges per job");
        assertEquals(6 + 4, tasks, "one task per range");
    }

    /** The jobs the engine ran so far in the shared context (it names their groups r1kit-1, r1kit-2, …). */
    private static Set<Integer> jobIds() {
        Set<Integer> ids = new HashSet<>();
        for (int g = 1; g <= 2000; g++) for (int id : sc.statusTracker().getJobIdsForGroup("r1kit-" + g)) ids.add(id);
        return ids;
    }

    private static RunContext context(String yaml, Path runDir) {
        StrictYaml.Loaded<RunConfig> cfg = StrictYaml.load(yaml, "test config", RunConfig.class, List.of());
        return new RunContext(cfg, runDir, new RunDirectory(runDir));
    }

    private static DataSets.GenerateSpec spec(RunContext ctx, String set) {
        return StrictYaml.YAML.convertValue(ctx.config().data().get(set).get("generate"), DataSets.GenerateSpec.class);
    }

    @Test
    void aModelAboveTheBroadcastLimitIsReadFromItsPathWithTheSameResult(@TempDir Path tmp) throws Exception {
        Path cfgA = tmp.resolve("a.yaml"), cfgB = tmp.resolve("b.yaml");
        Files.writeString(cfgA, TinyRun.config(8, 3, "", ""));
        Files.writeString(cfgB, TinyRun.config(8, 3, "", "cluster: {engine: spark, master: 'local[2]', broadcast_max_bytes: 0}"));
        Path a = tmp.resolve("in-process"), b = tmp.resolve("cluster");
        TinyRun.Result ra = TinyRun.cli("run", cfgA.toString(), "--run-dir", a.toString());
        assertEquals(0, ra.exit(), ra.err());
        TinyRun.Result rb = TinyRun.cli("run", cfgB.toString(), "--run-dir", b.toString());
        assertEquals(0, rb.exit(), rb.err());
        TinyRun.assertSameOutputs(a, b);
        JsonNode report = JSON.readTree(b.resolve("stages/rejection/cluster.json").toFile());
        assertEquals("path", report.get("model_shipped_by").asText());
        assertEquals(1, report.get("jobs").asInt());
        assertEquals(2, report.get("tasks").asInt());
    }
}

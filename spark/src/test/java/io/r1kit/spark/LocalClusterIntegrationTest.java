package io.r1kit.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rejection-sampling stage on {@code local-cluster[2,1,1024]}: a Master, two Workers and two executor
 * JVMs on 127.0.0.1, with the stand-in {@code SPARK_HOME} r1kit generates. One executor halts in the
 * middle of its first task; Spark runs the task again and the files equal the in-process run's byte
 * for byte. Then GRPO and PPO stages sample their rollouts on the executor JVMs and log the same
 * samples, with the same weights after their last step, as in-process. Every process the clusters
 * started is gone afterwards.
 */
class LocalClusterIntegrationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void samplesOnExecutorJvmsSurvivesAnExecutorDeathAndMatchesTheInProcessRun(@TempDir Path tmp) throws Exception {
        long driver = ProcessHandle.current().pid();
        Path marker = tmp.resolve("killed-executor.pid");
        String kill = "  - {class: " + ExecutorKillingReward.class.getName() + ", weight: 0.0, params: {driver_pid: " + driver + ", marker: '" + marker + "'}}";
        Path cfgA = tmp.resolve("a.yaml"), cfgB = tmp.resolve("b.yaml");
        Files.writeString(cfgA, TinyRun.config(24, 3, kill, ""));
        Files.writeString(cfgB, TinyRun.config(24, 3, kill, "cluster: {engine: spark, master: 'local-cluster[2,1,1024]', "
                + "conf: {spark.ui.enabled: false, spark.task.maxFailures: 4}}"));
        Path a = tmp.resolve("in-process"), b = tmp.resolve("cluster");
        TinyRun.Result ra = TinyRun.cli("run", cfgA.toString(), "--run-dir", a.toString());
        assertEquals(0, ra.exit(), ra.err());
        assertFalse(Files.exists(marker), "the in-process run scores in the driver's JVM");

        List<ProcessHandle> before = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).toList();
        TinyRun.Result rb = TinyRun.cli("run", cfgB.toString(), "--run-dir", b.toString());
        assertEquals(0, rb.exit(), rb.err());
        TinyRun.assertSameOutputs(a, b);

        // the tasks ran in executor JVMs, one of which died in the middle of a task
        assertTrue(Files.exists(marker), "an executor was halted");
        long killed = Long.parseLong(Files.readString(marker).trim());
        JsonNode report = JSON.readTree(b.resolve("stages/rejection/cluster.json").toFile());
        List<Long> pids = new ArrayList<>();
        report.get("executor_pids").forEach(p -> pids.add(p.asLong()));
        assertFalse(pids.isEmpty());
        assertFalse(pids.contains(driver), "tasks ran in executor JVMs, not the driver: " + pids);
        assertFalse(pids.contains(killed), "no result came from the halted executor " + killed + ": " + pids);
        assertEquals(6, report.get("tasks").asInt());

        // GRPO and PPO with their rollouts on the executor JVMs: the in-process run's samples and weights
        Path rlA = tmp.resolve("rl-a.yaml"), rlB = tmp.resolve("rl-b.yaml");
        Files.writeString(rlA, TinyRun.rlConfig(""));
        Files.writeString(rlB, TinyRun.rlConfig("cluster: {engine: spark, master: 'local-cluster[2,1,1024]', conf: {spark.ui.enabled: false}}"));
        Path ra2 = tmp.resolve("rl-in-process"), rb2 = tmp.resolve("rl-cluster");
        TinyRun.Result rla = TinyRun.cli("run", rlA.toString(), "--run-dir", ra2.toString());
        assertEquals(0, rla.exit(), rla.err());
        TinyRun.Result rlb = TinyRun.cli("run", rlB.toString(), "--run-dir", rb2.toString());
        assertEquals(0, rlb.exit(), rlb.err());
        TinyRun.assertSameRlOutputs(ra2, rb2);
        Matcher m = Pattern.compile("r1_zero: cluster rollouts: 3 job\\(s\\) .* on executors \\[([0-9, ]+)]").matcher(Files.readString(rb2.resolve("run.log")));
        assertTrue(m.find(), "the GRPO stage's cluster summary is in the run log");
        List<Long> rlPids = Arrays.stream(m.group(1).split(", ")).map(Long::parseLong).toList();
        assertFalse(rlPids.contains(driver), "rollouts ran in executor JVMs, not the driver: " + rlPids);

        // the stopped cluster leaves no process behind
        long deadline = System.nanoTime() + 20_000_000_000L;
        List<ProcessHandle> left;
        do {
            left = ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).filter(p -> !before.contains(p)).toList();
            if (!left.isEmpty()) Thread.sleep(200);
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        left.forEach(ProcessHandle::destroyForcibly);
        assertEquals(List.of(), left.stream().map(ProcessHandle::pid).toList(), "processes left by the cluster");
    }
}

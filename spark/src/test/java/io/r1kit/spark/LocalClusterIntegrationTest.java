package io.r1kit.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rejection-sampling stage on {@code local-cluster[2,1,1024]}: a Master, two Workers and two executor
 * JVMs on 127.0.0.1, with the stand-in {@code SPARK_HOME} r1kit generates. One executor halts in the
 * middle of its first task; Spark runs the task again and the files equal the in-process run's byte
 * for byte. Every process the cluster started is gone afterwards.
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

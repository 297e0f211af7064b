package io.r1kit.pipeline.cluster;

import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.run.Pipeline;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code cluster:} section: parsed as strictly as the rest of a run file; absent, nothing is looked up. */
class ClusterConfigTest {
    private static final String RUN = "name: r\nstages: [{type: eval}]\n";

    private static RunConfig load(String extra, String... overrides) {
        return StrictYaml.load(RUN + extra, "c.yaml", RunConfig.class, List.of(overrides)).value();
    }

    @Test
    void absentByDefaultAndThenNothingIsStarted(@TempDir Path tmp) {
        RunConfig c = load("");
        assertNull(c.cluster());
        RunContext ctx = new RunContext(StrictYaml.load(RUN, "c.yaml", RunConfig.class, List.of()), tmp, new RunDirectory(tmp.resolve("run")));
        assertFalse(ctx.cluster().enabled());
        assertThrows(IllegalStateException.class, () -> ctx.cluster().engine());
        ctx.cluster().close();   // nothing started, nothing to stop
    }

    @Test
    void readsEngineMasterConfAndDefaults() {
        RunConfig c = load("cluster: {engine: spark, master: 'local-cluster[2,1,1024]', conf: {spark.executor.memory: 2g, spark.executor.cores: 1}}\n");
        assertEquals("spark", c.cluster().engine());
        assertEquals("local-cluster[2,1,1024]", c.cluster().master());
        assertEquals(Map.of("spark.executor.memory", "2g", "spark.executor.cores", "1"), c.cluster().confStrings());
        assertEquals(512L << 20, c.cluster().broadcastMaxBytes());
        assertEquals(64, c.cluster().chunksPerJob());
        RunConfig set = load("", "cluster.engine=spark", "cluster.master=spark://h:7077");
        assertEquals("spark://h:7077", set.cluster().master());
        assertTrue(set.cluster().conf().isEmpty());
    }

    @Test
    void refusesUnknownKeysMissingOrUnknownEnginesAndStructuredConfValues() {
        ConfigException unknown = assertThrows(ConfigException.class, () -> load("cluster: {engine: spark, mastr: 'local[2]'}\n"));
        assertTrue(unknown.getMessage().contains("mastr") && unknown.getMessage().contains("master"), unknown.getMessage());
        ConfigException noEngine = assertThrows(ConfigException.class, () -> load("cluster: {master: 'local[2]'}\n"));
        assertTrue(noEngine.getMessage().contains("cluster.engine is required"), noEngine.getMessage());
        ConfigException ray = assertThrows(ConfigException.class, () -> load("cluster: {engine: ray}\n"));
        assertTrue(ray.getMessage().contains("'ray'; allowed: [spark]"), ray.getMessage());
        ConfigException nested = assertThrows(ConfigException.class, () -> load("cluster: {engine: spark, conf: {spark.x: {a: 1}}}\n"));
        assertTrue(nested.getMessage().contains("cluster.conf.spark.x must be a single value"), nested.getMessage());
        ConfigException chunks = assertThrows(ConfigException.class, () -> load("cluster: {engine: spark, chunks_per_job: 0}\n"));
        assertTrue(chunks.getMessage().contains("chunks_per_job must be ≥ 1"), chunks.getMessage());
    }

    @Test
    void aRunWithClusterIsRefusedAtValidationWhenTheModuleIsAbsent(@TempDir Path tmp) throws Exception {
        Path cfg = tmp.resolve("c.yaml");
        Files.writeString(cfg, """
                name: r
                data: {d: {generate: {task: bilingual, n: 2, seed: 1}}}
                stages: [{type: eval, data: d}]
                cluster: {engine: spark, master: 'local[2]'}
                """);
        ConfigException e = assertThrows(ConfigException.class, () -> Pipeline.prepare(cfg, List.of(), tmp.resolve("run")));
        assertTrue(e.getMessage().contains("bin/r1kit build --spark"), e.getMessage());
        Files.writeString(cfg, Files.readString(cfg).replace("cluster: {engine: spark, master: 'local[2]'}\n", ""));
        Pipeline.prepare(cfg, List.of(), tmp.resolve("run"));   // the same run without it is fine
    }

    @Test
    void withoutTheSparkModuleTheErrorSaysHowToBuildIt() {
        // the pipeline's own class path has no engine module
        ConfigException e = assertThrows(ConfigException.class, () -> Cluster.provider("spark", getClass().getClassLoader()));
        assertTrue(e.getMessage().contains("the r1kit-spark module is not on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("bin/r1kit build --spark"), e.getMessage());
    }
}

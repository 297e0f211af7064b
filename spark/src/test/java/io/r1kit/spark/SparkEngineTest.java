package io.r1kit.spark;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What the engine derives from the master URL and the class path, without starting Spark. */
class SparkEngineTest {

    @Test
    void executorThreadsFollowTheCoresSparkGivesAnExecutor() {
        assertEquals(3, SparkEngine.executorCores("local-cluster[2,3,1024]", null));
        assertEquals(1, SparkEngine.executorCores("local-cluster[ 2, 1, 512 ]", null));
        assertEquals(4, SparkEngine.executorCores("spark://h:7077", "4"));
        assertEquals(2, SparkEngine.executorCores("local-cluster[2,1,1024]", "2"));
        assertNull(SparkEngine.executorCores("spark://h:7077", null));
        assertNull(SparkEngine.executorCores("local[2]", null));
    }

    @Test
    void applicationJarsLeaveSparkAndScalaToTheCluster() {
        String cp = String.join(File.pathSeparator, "/m2/spark-core_2.13-4.2.0.jar", "/m2/scala-library-2.13.18.jar",
                "/w/pipeline/target/r1kit-pipeline-0.1.0-SNAPSHOT.jar", "/m2/jackson-databind-2.21.2.jar", "/w/spark/target/classes");
        assertEquals(List.of("file:///w/pipeline/target/r1kit-pipeline-0.1.0-SNAPSHOT.jar", "file:///m2/jackson-databind-2.21.2.jar"),
                SparkEngine.applicationJars(cp));
    }
}

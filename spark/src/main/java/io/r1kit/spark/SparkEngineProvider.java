package io.r1kit.spark;

import io.r1kit.pipeline.cluster.ClusterEngine;
import io.r1kit.pipeline.cluster.ClusterEngineProvider;
import io.r1kit.pipeline.config.ClusterConfig;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.function.Consumer;

/** {@code cluster.engine: spark}, registered in {@code META-INF/services}. */
public final class SparkEngineProvider implements ClusterEngineProvider {

    @Override
    public String name() {
        return "spark";
    }

    /**
     * Runs the cluster work of this JVM's runs on an existing Spark context (an application that embeds
     * r1kit, or tests sharing one context) instead of starting one per run; null undoes it. The runs do
     * not stop it.
     */
    public static void useExistingContext(JavaSparkContext sc) {
        SparkEngine.useExistingContext(sc);
    }

    @Override
    public ClusterEngine start(ClusterConfig config, Consumer<String> log) {
        return SparkEngine.start(config, log);
    }
}

package io.r1kit.pipeline.cluster;

import io.r1kit.pipeline.config.ClusterConfig;

import java.util.function.Consumer;

/**
 * Service interface of an engine module ({@code META-INF/services/io.r1kit.pipeline.cluster.ClusterEngineProvider}):
 * the {@code spark} module provides {@code spark}.
 */
public interface ClusterEngineProvider {

    /** The {@code cluster.engine} value this provider serves. */
    String name();

    /** Starts the engine (a Spark application) for a run; {@code log} takes lines for the run log. */
    ClusterEngine start(ClusterConfig config, Consumer<String> log);
}

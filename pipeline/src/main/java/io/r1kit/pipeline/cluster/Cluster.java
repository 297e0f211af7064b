package io.r1kit.pipeline.cluster;

import io.r1kit.pipeline.config.ClusterConfig;
import io.r1kit.pipeline.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The run's cluster, started on first use and stopped with the run. Without a {@code cluster:}
 * section {@link #enabled()} is false and nothing is looked up: no engine class is loaded.
 */
public final class Cluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Cluster.class);

    /** What the launcher builds the engine module with; named in the error when the module is absent. */
    public static final String BUILD_HINT = "build it with `bin/r1kit build --spark` (bin/r1kit also builds it by itself when a run's "
            + "config has a cluster: section), or put the r1kit-spark jar and its dependencies on the classpath";

    private final ClusterConfig config;
    private ClusterEngine engine;

    public Cluster(ClusterConfig config) {
        this.config = config;
    }

    /** Whether the run has a {@code cluster:} section. */
    public boolean enabled() {
        return config != null;
    }

    public ClusterConfig config() {
        return config;
    }

    /**
     * Checks, before any work, that the configured engine's module is on the class path (a ConfigException
     * saying how to build it otherwise); nothing is started. Without {@code cluster:} it does nothing.
     */
    public void checkAvailable() {
        if (config != null) provider(config.engine(), getClass().getClassLoader());
    }

    /** The engine, started on the first call (a Spark application takes seconds to start). */
    public synchronized ClusterEngine engine() {
        if (config == null) throw new IllegalStateException("the run has no cluster: section");
        if (engine == null) {
            ClusterEngineProvider p = provider(config.engine(), getClass().getClassLoader());
            LOG.info("cluster: starting {} (master {})", config.engine(), config.master() == null ? "from spark-submit" : config.master());
            long t0 = System.nanoTime();
            engine = p.start(config, LOG::info);
            LOG.info("cluster: {} started in {} s", engine.describe(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        }
        return engine;
    }

    /** The provider of an engine on the class path, or a ConfigException saying how to get it. */
    static ClusterEngineProvider provider(String name, ClassLoader loader) {
        List<String> found = new ArrayList<>();
        for (ClusterEngineProvider p : ServiceLoader.load(ClusterEngineProvider.class, loader)) {
            if (p.name().equals(name)) return p;
            found.add(p.name());
        }
        throw new ConfigException("cluster.engine: " + name + ": the r1kit-" + name + " module is not on the class path"
                + (found.isEmpty() ? "" : " (engines found: " + found + ")") + "; " + BUILD_HINT);
    }

    /** Stops the engine if it was started. */
    @Override
    public synchronized void close() {
        if (engine != null) {
            try {
                engine.close();
            } finally {
                engine = null;
            }
        }
    }
}

package io.r1kit.pipeline.cluster;

import io.r1kit.pipeline.config.RunConfig;
import io.r1kit.pipeline.config.StrictYaml;
import io.r1kit.pipeline.run.RunContext;
import io.r1kit.pipeline.run.RunDirectory;
import io.r1kit.pipeline.run.StageSpec;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What an executor needs to rebuild a stage's context: the run's resolved config (after every
 * {@code --set}), the config's folder (relative paths, plugins) and the run directory, as the driver
 * has them. The executor's {@link RunContext} gives the same template, rewards and tokenizers as the
 * driver's; it does not generate data or write into the run directory.
 *
 * @param yaml       the resolved config, as {@code config.yaml} of the run directory holds it
 * @param configDir  the config file's folder on the driver
 * @param runDir     the run directory on the driver
 * @param stageIndex the stage's index in {@code stages:}
 */
public record RunRecipe(String yaml, String configDir, String runDir, int stageIndex) implements Serializable {

    /** The recipe of stage {@code s} of a driver's context. */
    public static RunRecipe of(RunContext ctx, StageSpec s) {
        if (!s.pointer().startsWith("/stages/")) throw new IllegalArgumentException("stage " + s.name() + " is not in stages: (" + s.pointer() + ")");
        try {
            return new RunRecipe(StrictYaml.YAML.writeValueAsString(ctx.loaded().resolved()), ctx.configDir().toString(),
                    ctx.dir().root().toString(), Integer.parseInt(s.pointer().substring("/stages/".length())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the resolved config", e);
        }
    }

    /** The context, rebuilt (on the host device; the caller places its models). */
    public RunContext context() {
        StrictYaml.Loaded<RunConfig> cfg = StrictYaml.load(yaml, "config of run " + runDir, RunConfig.class, List.of());
        RunContext ctx = new RunContext(cfg, Path.of(configDir), new RunDirectory(Path.of(runDir)));
        ctx.data().generatedSetWriter(null);   // an executor never starts a cluster of its own
        return ctx;
    }

    /** The stage, parsed from the rebuilt context's config. */
    public StageSpec stage(RunContext ctx) {
        return StageSpec.parse(ctx.loaded(), stageIndex);
    }
}

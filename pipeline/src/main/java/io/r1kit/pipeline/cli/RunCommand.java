package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.Pipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code r1kit run FILE}: runs a config's stages in order, resuming what was interrupted. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run the stages of a YAML config in order.",
                "Rerunning (or --resume) skips completed stages and resumes the interrupted one from its last checkpoint."})
public final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the run's YAML config")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config value, e.g. stages.r1_zero.beta=0.04 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", description = "continue an interrupted run (rerunning does the same; kept for clarity)")
    boolean resume;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "run directory (default: the config's run_dir, runs/<name>)")
    Path runDir;

    @Override
    public Integer call() throws Exception {
        return execute(config, overrides, runDir, null);
    }

    static int execute(Path config, List<String> overrides, Path runDir, String only) throws Exception {
        Pipeline p;
        try {
            p = Pipeline.prepare(config, overrides, runDir);
        } catch (ConfigException e) {
            System.err.println("r1kit: " + e.getMessage());
            return 2;
        }
        try (RunLog log = new RunLog(p.context().dir().logFile())) {
            System.err.println("r1kit: run " + p.context().config().name() + " in " + p.context().dir().root());
            Path report = p.run(only);
            System.out.println("report: " + report);
            return 0;
        } catch (ConfigException e) {
            System.err.println("r1kit: " + e.getMessage());
            return 2;
        }
    }
}

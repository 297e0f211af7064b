package io.r1kit.pipeline.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code r1kit stage NAME --config FILE}: runs one stage of a config alone (earlier model stages must be done). */
@Command(name = "stage", mixinStandardHelpOptions = true,
        description = "Run one stage of a config alone (by name). Stages it depends on must have completed.")
public final class StageCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "the stage's name in the config")
    String name;

    @Option(names = "--config", required = true, paramLabel = "FILE")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config value (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--run-dir", paramLabel = "DIR")
    Path runDir;

    @Override
    public Integer call() throws Exception {
        return RunCommand.execute(config, overrides, runDir, name);
    }
}

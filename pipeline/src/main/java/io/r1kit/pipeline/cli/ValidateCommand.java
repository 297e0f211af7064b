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

/** {@code r1kit validate FILE}: checks a config without running anything. */
@Command(name = "validate", mixinStandardHelpOptions = true, description = "Check a config (keys, types, files, stages) without running it.")
public final class ValidateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config value (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() {
        try {
            Pipeline p = Pipeline.prepare(config, overrides, null);
            System.out.println(config + ": ok (" + p.stages().size() + " stages: "
                    + String.join(", ", p.stages().stream().map(s -> s.name() + " [" + s.type().yamlName() + "]").toList()) + ")");
            return 0;
        } catch (ConfigException e) {
            System.err.println("r1kit: " + e.getMessage());
            return 2;
        }
    }
}

package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.docs.ConfigReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code r1kit docs config}: writes the generated documentation pages. */
@Command(name = "docs", mixinStandardHelpOptions = true, description = "Write generated documentation pages.",
        subcommands = DocsCommand.Config.class)
public final class DocsCommand implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** {@code r1kit docs config [--out FILE]}: the option reference, from the config records. */
    @Command(name = "config", mixinStandardHelpOptions = true,
            description = "Write the config reference (docs/config.md) from the config records' @Doc annotations and defaults.")
    public static final class Config implements Callable<Integer> {
        @Option(names = "--out", paramLabel = "FILE", description = "output file (default: docs/config.md under the r1kit home; '-' = stdout)")
        String out;

        @Override
        public Integer call() throws IOException {
            String page = ConfigReference.markdown();
            if ("-".equals(out)) {
                System.out.print(page);
                return 0;
            }
            Path file = out != null ? Path.of(out) : Path.of(System.getProperty("r1kit.home", ".")).resolve("docs/config.md");
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, page, StandardCharsets.UTF_8);
            System.out.println("wrote " + file);
            return 0;
        }
    }
}

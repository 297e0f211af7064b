package io.r1kit.data.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code r1kit data}: generate task and toy-universe corpora, and describe dataset files. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Generate task instances and toy-universe corpora; show dataset statistics.",
        subcommands = {GenerateCommand.class, StatsCommand.class})
public final class DataCommand implements Runnable {
    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** Runs {@code data ...} on its own (used by tests that need a separate JVM). */
    public static void main(String[] args) {
        System.exit(new CommandLine(new DataCommand()).execute(args));
    }
}

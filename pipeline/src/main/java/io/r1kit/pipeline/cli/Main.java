package io.r1kit.pipeline.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import io.r1kit.data.cli.DataCommand;
import io.r1kit.rewards.cli.RewardCommand;

/** The r1kit command line. Each subcommand lives in its own class in this package. */
@Command(name = "r1kit", mixinStandardHelpOptions = true, version = "r1kit 0.1.0",
        description = "Reinforcement-learning post-training of language models, the DeepSeek-R1 way.",
        subcommands = {CommandLine.HelpCommand.class,
                RunCommand.class, ValidateCommand.class, PlanCommand.class, StageCommand.class, ReportCommand.class, AblateCommand.class,
                DashboardCommand.class,
                FindingsCommand.class,
                EvalCommand.class,
                GenerateCommand.class,
                LogprobsCommand.class,
                DocsCommand.class,
                QuantizeCommand.class,
                MergeCommand.class,
                SelftestCommand.class,
                DataCommand.class,
                RewardCommand.class})
public final class Main implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command tree, also used by tests to run commands in-process. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setExecutionExceptionHandler(new EnvironmentErrors());
    }
}

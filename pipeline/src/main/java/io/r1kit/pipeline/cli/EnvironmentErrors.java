package io.r1kit.pipeline.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Failures of the machine rather than of r1kit (a full disk, a read-only or unwritable directory, a
 * file that vanished) are reported as one line per cause, naming the path and the system's reason,
 * without a stack trace: the user's fix is on their side (free space, another {@code --run-dir}), and
 * the run resumes from its last checkpoint once it is made. Anything else keeps its stack trace, which
 * is what a bug report needs. {@code -Dr1kit.stacktrace=true} prints the trace for both.
 */
final class EnvironmentErrors implements IExecutionExceptionHandler {
    /** Commands that run stages with checkpoints, and resume them when started again. */
    private static final Set<String> RESUMABLE = Set.of("run", "stage", "ablate", "findings");

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        boolean io = ex instanceof IOException || ex instanceof UncheckedIOException;
        if (!io || Boolean.getBoolean("r1kit.stacktrace")) {
            ex.printStackTrace(cmd.getErr());
            return 1;
        }
        var err = cmd.getErr();
        err.println("r1kit: error: " + message(ex));
        for (Throwable c = ex.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !message(ex).contains(c.getMessage())) err.println("  caused by: " + message(c));
        }
        if (RESUMABLE.contains(cmd.getCommandName())) {
            err.println("r1kit: the run's checkpoints up to the last complete one are intact; once the cause is fixed,"
                    + " the same command resumes from it");
        }
        err.flush();
        return 1;
    }

    /** The message, or the exception's simple name where it has none. */
    private static String message(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}

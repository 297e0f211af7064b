package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.report.ReportWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code r1kit report RUN_DIR}: (re)writes report.html and its plots. */
@Command(name = "report", mixinStandardHelpOptions = true, description = "Write report.html and plots/ for a run directory.")
public final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_DIR")
    Path runDir;

    @Override
    public Integer call() {
        if (!Files.isDirectory(runDir)) {
            System.err.println("r1kit: " + runDir + " is not a run directory");
            return 2;
        }
        System.out.println(ReportWriter.write(runDir));
        return 0;
    }
}

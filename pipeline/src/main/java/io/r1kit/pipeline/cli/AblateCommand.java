package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.ablate.Ablation;
import io.r1kit.pipeline.ablate.AblationReport;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.run.Pipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code r1kit ablate FILE}: a base config, a grid of overrides and seeds; runs them all and compares. */
@Command(name = "ablate", mixinStandardHelpOptions = true,
        description = {"Run an ablation: every variant x seed of a base config, then ablation.md/.json and overlaid plots.",
                "Stages shared by several runs (e.g. pretraining the base model) run once. Rerunning resumes."})
public final class AblateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the ablation YAML (base, grid/variants, seeds)")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a key of the ablation file, e.g. seeds=[1] (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--run-dir", paramLabel = "DIR", description = "where the runs and the summary go (default runs/ablations/<name>)")
    Path runDir;

    @Option(names = "--dry-run", description = "list the runs and validate them without running anything")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        Ablation a;
        try {
            a = new Ablation(file, overrides, runDir);
            if (dryRun) {
                a.validate();
                for (Ablation.Combo c : a.combos()) {
                    System.out.println(c.variant() + "  seed " + c.seed() + "  " + c.runDir() + "  " + String.join(" ", c.overrides()));
                }
                return 0;
            }
            AblationReport.Summary s = a.run(a.spec().parallel() > 1 ? AblateCommand::inChildJvm : AblateCommand::inThisJvm);
            System.out.println();
            System.out.printf("%-32s %-18s %-8s %-8s%n", "variant", "accuracy", "format", "length");
            for (AblationReport.Row r : s.rows()) {
                System.out.printf(Locale.ROOT, "%-32s %.3f ± %.3f      %-8.3f %-8.1f%n", r.variant(), r.accuracyMean(), r.accuracyStd(),
                        r.formatRate(), r.meanLength());
            }
            System.out.println("summary: " + s.markdown());
            return 0;
        } catch (ConfigException e) {
            System.err.println("r1kit: " + e.getMessage());
            return 2;
        }
    }

    /** One run in this JVM, its console copied to its run.log like {@code r1kit run}. */
    static void inThisJvm(Ablation.Combo c, Path base) throws Exception {
        Pipeline p = Pipeline.prepare(base, c.overrides(), c.runDir());
        try (RunLog log = new RunLog(p.context().dir().logFile())) {
            p.run(null);
        }
    }

    /**
     * One run as {@code r1kit run} in a child JVM (same JVM flags and classpath), for parallel
     * ablations: kernels use one shared pool per JVM, so concurrent runs need their own JVMs.
     */
    static void inChildJvm(Ablation.Combo c, Path base) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("run");
        cmd.add(base.toString());
        cmd.add("--run-dir");
        cmd.add(c.runDir().toString());
        for (String o : c.overrides()) {
            cmd.add("--set");
            cmd.add(o);
        }
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException("run " + c.variant() + " seed " + c.seed() + " failed (exit " + code + "); see "
                    + c.runDir() + File.separator + "run.log");
        }
    }
}

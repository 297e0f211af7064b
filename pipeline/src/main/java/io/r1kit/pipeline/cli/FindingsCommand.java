package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.ablate.Ablation;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.findings.Finding;
import io.r1kit.pipeline.findings.FindingReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code r1kit findings list|run}: published R1-Zero findings, each an ablation with a rule that decides it. */
@Command(name = "findings", mixinStandardHelpOptions = true,
        description = {"Reproduce published findings: each is an ablation in configs/findings/ with a claim, a source and a rule;",
                "running it writes finding.json (the verdict, computed from the runs' metrics) and finding.html."},
        subcommands = {FindingsCommand.ListFindings.class, FindingsCommand.RunFindings.class})
public final class FindingsCommand implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    /** {@code findings list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the findings with their claims and sources.")
    static final class ListFindings implements Callable<Integer> {
        @Option(names = "--dir", paramLabel = "DIR", description = "where the findings files are (default configs/findings)")
        Path dir = Path.of("configs", "findings");

        @Override
        public Integer call() {
            try {
                for (Path p : Finding.list(dir)) {
                    Finding f = new Finding(p, List.of(), List.of(), 0, null);
                    System.out.printf(Locale.ROOT, "%-24s %s%n%-24s   source: %s; %d variant(s) × %d seed(s)%n", f.name(), f.claim(), "",
                            f.source(), f.runs().size(), f.ablation().spec().seeds().size());
                }
                return 0;
            } catch (ConfigException e) {
                System.err.println("r1kit: " + e.getMessage());
                return 2;
            }
        }
    }

    /** {@code findings run NAME | --all}. */
    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Run a finding (every variant x seed; finished runs are skipped, interrupted ones resumed),",
                    "evaluate its rule and write finding.json / finding.html / finding.md in its run directory."})
    static final class RunFindings implements Callable<Integer> {
        @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "a finding's name (configs/findings/NAME.yaml) or a file")
        String name;

        @Option(names = "--all", description = "run every finding of --dir, one after the other")
        boolean all;

        @Option(names = "--dir", paramLabel = "DIR", description = "where the findings files are (default configs/findings)")
        Path dir = Path.of("configs", "findings");

        @Option(names = "--run-dir", paramLabel = "DIR",
                description = "where the runs go (default runs/findings/<name>; with --all, DIR/<name>)")
        Path runDir;

        @Option(names = "--seeds", paramLabel = "N", description = "run seeds 1..N instead of the file's seeds")
        int seeds;

        @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a key of the findings file (repeatable)")
        List<String> overrides = new ArrayList<>();

        @Option(names = "--run-set", paramLabel = "KEY=VALUE",
                description = "override a key of every run's config, after the file's 'set' (repeatable), e.g. stages.r1_zero.max_steps=4")
        List<String> runSets = new ArrayList<>();

        @Option(names = "--dry-run", description = "list the runs and validate them without running anything")
        boolean dryRun;

        @Override
        public Integer call() throws Exception {
            if (all == (name != null)) {
                System.err.println("r1kit: give a finding's NAME or --all");
                return 2;
            }
            try {
                List<Path> files = all ? Finding.list(dir) : List.of(Finding.resolve(dir, name));
                List<Finding> findings = new ArrayList<>();
                for (Path f : files) {
                    String n = f.getFileName().toString().replaceFirst("\\.ya?ml$", "");
                    Path root = runDir == null ? null : all ? runDir.resolve(n) : runDir;
                    findings.add(new Finding(f, overrides, runSets, seeds, root));
                }
                if (dryRun) {
                    for (Finding f : findings) {
                        f.ablation().validate();
                        for (Ablation.Combo c : f.ablation().combos()) {
                            System.out.println(f.name() + "  " + c.variant() + "  seed " + c.seed() + "  " + c.runDir() + "  "
                                    + String.join(" ", c.overrides()));
                        }
                    }
                    return 0;
                }
                int held = 0;
                for (int i = 0; i < findings.size(); i++) {
                    Finding f = findings.get(i);
                    if (findings.size() > 1) System.out.printf(Locale.ROOT, "== finding %d/%d: %s ==%n", i + 1, findings.size(), f.name());
                    Ablation.RunExecutor ex = f.ablation().spec().parallel() > 1 ? AblateCommand::inChildJvm : AblateCommand::inThisJvm;
                    FindingReport.Written w = f.run(ex, System.out);
                    System.out.println(f.name() + ": " + (w.verdict().holds() ? "HOLDS" : "DOES NOT HOLD: " + String.join("; ", w.verdict().reasons())));
                    System.out.println("  " + w.json() + "\n  " + w.html());
                    if (w.verdict().holds()) held++;
                }
                if (findings.size() > 1) System.out.printf(Locale.ROOT, "%d of %d findings hold%n", held, findings.size());
                return 0;
            } catch (ConfigException e) {
                System.err.println("r1kit: " + e.getMessage());
                return 2;
            }
        }
    }
}

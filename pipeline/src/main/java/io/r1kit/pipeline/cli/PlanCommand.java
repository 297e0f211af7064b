package io.r1kit.pipeline.cli;

import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.plan.MemoryCheck;
import io.r1kit.pipeline.plan.MemoryPlanner;
import io.r1kit.pipeline.plan.StagePlan;
import io.r1kit.pipeline.run.Pipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code r1kit plan FILE}: the memory each stage will need on its device; exit status 3 when one does not fit. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Print, per stage, the memory it will need on its device (weights, gradients, optimizer state, activations "
                + "with and without gradient checkpointing, KV cache, reference model) and whether it fits. Exit status 3 when a stage does not fit.")
public final class PlanCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override a config value (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--memory", paramLabel = "BYTES", description = "plan against this many bytes instead of the device's (suffixes k, m, g)")
    String memory;

    @Override
    public Integer call() {
        try {
            Pipeline p = Pipeline.prepare(config, overrides, null);
            List<StagePlan> plans = MemoryPlanner.plan(p);
            String device = p.context().config().device();
            boolean cpu = device.equals("cpu");
            long capacity = memory != null ? parseBytes(memory) : cpu ? MemoryCheck.cpuCapacity() : -1;
            System.out.print(MemoryCheck.render(plans, capacity, device));
            return capacity > 0 && MemoryCheck.firstThatDoesNotFit(plans, capacity) != null ? 3 : 0;
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("r1kit: " + e.getMessage());
            return 2;
        }
    }

    static long parseBytes(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long mult = 1;
        if (t.endsWith("g")) mult = 1L << 30;
        else if (t.endsWith("m")) mult = 1L << 20;
        else if (t.endsWith("k")) mult = 1L << 10;
        if (mult > 1) t = t.substring(0, t.length() - 1);
        try {
            return (long) (Double.parseDouble(t) * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--memory is '" + s + "'; expected a number of bytes with an optional k, m or g suffix");
        }
    }
}

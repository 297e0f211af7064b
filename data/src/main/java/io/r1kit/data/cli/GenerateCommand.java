package io.r1kit.data.cli;

import io.r1kit.data.gen.GeneratorParams;
import io.r1kit.data.gen.Generators;
import io.r1kit.data.gen.JsonlWriter;
import io.r1kit.data.gen.TaskGenerator;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code r1kit data generate --task TASK --n N --seed S --out FILE.jsonl [--param k=v ...]}. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Write N generated examples as JSONL. The same task, params and seed give a byte-identical file.")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--task", required = true,
            description = "One of: countdown, arithmetic, pretrain-corpus, nonreasoning, bilingual, preferences.")
    String task;

    @Option(names = "--n", required = true, description = "Number of examples.")
    long n;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output JSONL file.")
    Path out;

    @Option(names = "--param", paramLabel = "KEY=VALUE", description = "A generator knob, e.g. --param digits=3 (repeatable).")
    List<String> params = new ArrayList<>();

    @Override
    public Integer call() {
        if (n < 0) throw new IllegalArgumentException("--n must be >= 0, got " + n);
        TaskGenerator gen = Generators.create(task, seed, GeneratorParams.parse(params));
        long t0 = System.nanoTime();
        long written = JsonlWriter.generate(gen, n, out);
        System.out.printf("wrote %d %s examples (seed %d) to %s in %.1f s%n", written, task, seed, out,
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}

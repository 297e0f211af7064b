package io.r1kit.data.cli;

import io.r1kit.data.DatasetStats;
import io.r1kit.data.tokens.TokenCounterProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.ToIntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code r1kit data stats FILE [--model DIR]}. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Count, columns and length distribution (characters, and tokens with --model) of a JSONL or JSON file.")
public final class StatsCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "A .jsonl file, or a .json array.")
    Path file;

    @Option(names = "--model", paramLabel = "DIR", description = "A model directory with a tokenizer.json, to count tokens.")
    Path model;

    @Override
    public Integer call() {
        ToIntFunction<String> counter = null;
        String note = null;
        if (model != null) {
            if (!Files.isRegularFile(model.resolve("tokenizer.json"))) {
                System.err.println("r1kit data stats: --model " + model + " has no tokenizer.json");
                return 2;
            }
            Optional<ToIntFunction<String>> c = TokenCounterProvider.find(model);
            if (c.isPresent()) counter = c.get();
            else note = "not available: no tokenizer implementation is registered on the classpath for " + model
                    + " (the model module provides one)";
        }
        DatasetStats.of(file, counter).print(System.out, note);
        return 0;
    }
}

package io.r1kit.data.cli;

import io.r1kit.data.DatasetStats;
import io.r1kit.model.tokenizer.HfTokenizer;
import io.r1kit.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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
    public Integer call() throws IOException {
        if (model == null) {
            DatasetStats.of(file, null).print(System.out, null);
            return 0;
        }
        if (!Files.isRegularFile(model.resolve("tokenizer.json"))) {
            System.err.println("r1kit data stats: --model " + model + " has no tokenizer.json");
            return 2;
        }
        try (Tokenizer tok = HfTokenizer.load(model)) {
            DatasetStats.of(file, text -> tok.encode(text, false).length).print(System.out, null);
        }
        return 0;
    }
}

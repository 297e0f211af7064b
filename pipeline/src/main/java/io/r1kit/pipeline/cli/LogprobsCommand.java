package io.r1kit.pipeline.cli;

import io.r1kit.model.generate.LogprobsJsonl;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1kit logprobs --model DIR --input IN.jsonl --output OUT.jsonl}: teacher-forced
 * log-probabilities of completions (see {@link LogprobsJsonl} for the line format).
 */
@Command(name = "logprobs", mixinStandardHelpOptions = true,
        description = {"Per-token log-probabilities of given completions under a model (teacher forcing).",
                "Each input line is {\"prompt_ids\":[...], \"completion_ids\":[...]} or {\"prompt\":\"...\", \"completion\":\"...\"};",
                "each output line is the input object plus \"logprobs\": one float per completion token, log p(token | everything before it)."})
public final class LogprobsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json + safetensors; Llama, Qwen2, Qwen3, DeepSeek-V3; F32/BF16/F16/FP8 block-scaled, sharded or not).")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "IN.jsonl", description = "Input JSONL.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "OUT.jsonl", description = "Output JSONL (written atomically).")
    Path output;

    @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Sequences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--temperature", defaultValue = "1.0", paramLabel = "T",
            description = "Score under softmax(logits / T) (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Override
    public Integer call() {
        try {
            long t0 = System.nanoTime();
            int n = LogprobsJsonl.run(model, input, output, batchSize, temperature);
            System.err.printf("r1kit logprobs: scored %d line(s) in %.1f s -> %s%n", n, (System.nanoTime() - t0) / 1e9, output);
            return 0;
        } catch (IOException | IllegalArgumentException e) {
            System.err.println("r1kit logprobs: " + e.getMessage());
            return 1;
        }
    }
}

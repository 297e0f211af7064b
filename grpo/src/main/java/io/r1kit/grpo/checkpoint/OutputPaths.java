package io.r1kit.grpo.checkpoint;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a trainer writes. A trainer used alone keeps everything under one directory
 * ({@link #under}); the pipeline spreads a stage's files over the run directory's contract
 * ({@code checkpoints/<stage>/}, {@code samples/<stage>/}, one {@code metrics.jsonl} shared by all
 * stages, each line tagged with its {@code stage}).
 *
 * @param checkpoints {@code checkpoint-N/} directories and the {@code latest} pointer
 * @param samples     {@code step-N.jsonl} sampled completions (trainers that sample)
 * @param metrics     the metrics file, appended to; may be shared with other stages when
 *                    {@code stage} is set, because resume then only drops this stage's lines
 * @param finalModel  the final model (HF layout), for trainers that save one apart from their checkpoints
 */
public record OutputPaths(Path checkpoints, Path samples, Path metrics, Path finalModel) {
    public OutputPaths {
        Objects.requireNonNull(checkpoints, "checkpoints");
        Objects.requireNonNull(samples, "samples");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(finalModel, "finalModel");
    }

    /** Everything under {@code dir}: {@code checkpoints/}, {@code samples/}, {@code metrics.jsonl}, {@code model/}. */
    public static OutputPaths under(Path dir) {
        return new OutputPaths(dir.resolve("checkpoints"), dir.resolve("samples"), dir.resolve("metrics.jsonl"), dir.resolve("model"));
    }
}

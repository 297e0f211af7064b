package io.r1kit.grpo.train;

import io.r1kit.grpo.checkpoint.OutputPaths;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What every trainer's builder sets besides its models and data: where it writes, the stage name of
 * its metrics lines, whether it continues an interrupted run, and its listener.
 *
 * @param <B> the concrete builder, returned by each setter so calls chain
 */
public abstract class TrainerBuilder<B extends TrainerBuilder<B>> {

    /**
     * The settings of {@link TrainerBuilder} once built.
     *
     * @param outputs  where the trainer writes (null: nowhere, for trainers that allow it)
     * @param stage    written as {@code stage} in every metrics line (null: none)
     * @param resume   continue from the newest checkpoint when there is one
     * @param listener never null
     */
    public record RunOptions(OutputPaths outputs, String stage, boolean resume, TrainerListener listener) {}

    private OutputPaths outputs;
    private String stage;
    private boolean resume;
    private TrainerListener listener = TrainerListener.NONE;

    protected abstract B self();

    /** Everything under one directory: metrics.jsonl, samples/, checkpoints/, model/. */
    public B outputDir(Path dir) {
        this.outputs = dir == null ? null : OutputPaths.under(dir);
        return self();
    }

    /**
     * Each output in its own place (the pipeline's run directory layout). The metrics file may be
     * shared with other stages: resume only drops lines of this trainer's {@code stage}.
     */
    public B outputs(OutputPaths o) {
        this.outputs = o;
        return self();
    }

    /** Written as {@code stage} in every metrics line (pipelines with several stages). */
    public B stage(String s) {
        this.stage = s;
        return self();
    }

    /**
     * Continue from the newest checkpoint if there is one (else start fresh). Without it, an output
     * place that already holds a run is an error, so a run is never silently mixed with an older one.
     */
    public B resume(boolean r) {
        this.resume = r;
        return self();
    }

    public B listener(TrainerListener l) {
        this.listener = Objects.requireNonNull(l, "listener");
        return self();
    }

    public RunOptions options() {
        return new RunOptions(outputs, stage, resume, listener);
    }

    /** Fails naming the setting the trainer cannot do without. */
    protected static void require(Object value, String trainer, String what) {
        if (value == null) throw new IllegalStateException(trainer + " trainer: " + what + " is not set");
    }
}

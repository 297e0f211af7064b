package io.r1kit.grpo.train;

import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.OutputPaths;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.rollout.SampleFiles;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.lora.LoraConfig;
import io.r1kit.model.lora.PeftAdapterFiles;
import io.r1kit.model.tensor.Parameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A trainer's checkpoints and the start of its run: {@link CheckpointStore}'s atomic
 * {@code checkpoint-N/} directories, plus the checks every resume makes before any weight is
 * loaded. A resume refuses a checkpoint written with another seed or another RNG scheme (the
 * batches and samples would silently differ from the uninterrupted run), warns about every other
 * option that changed, and refuses a checkpoint that lacks a tensor of the model. Starting fresh
 * refuses an output place that already holds a run of this stage.
 */
public final class TrainerCheckpoint {

    /** A checkpoint a resume continues from: its directory and its validated state. */
    public record Restored(Path dir, TrainerState state) {}

    private final String trainer;
    private final OutputPaths outputs;
    private final String stage;
    private final CheckpointStore store;
    private final long seed;
    private final String rngScheme;
    private final Map<String, Object> config;
    private final Consumer<String> warn;

    /**
     * The trainer's options with the model's LoRA settings under {@code lora} when it trains adapters, so
     * a resume with another {@code lora_alpha} or {@code lora_dropout} is reported like any changed option
     * (a changed {@code r} or {@code target_modules} cannot load the checkpoint's adapters at all).
     */
    public static Map<String, Object> withLora(Map<String, Object> config, CausalLM model) {
        if (model.lora() == null) return config;
        Map<String, Object> m = new LinkedHashMap<>(config);
        LoraConfig l = model.lora().config();
        m.put("lora", "r=" + l.r() + " lora_alpha=" + l.loraAlpha() + " lora_dropout=" + l.loraDropout() + " target_modules=" + l.targetModules());
        return m;
    }

    /**
     * @param trainer   the name that starts every message ("grpo", "ppo", "sft")
     * @param stage     the metrics lines of this stage are the ones a resume drops (null: every line)
     * @param keepLast  {@code save_total_limit}
     * @param rngScheme how this trainer derives its random draws; a checkpoint must have been written with the same
     * @param config    the trainer's options, snake_case (stored in the checkpoint, compared on resume)
     * @param warn      where the changed-options warning goes
     */
    public TrainerCheckpoint(String trainer, OutputPaths outputs, String stage, int keepLast, long seed, String rngScheme,
                             Map<String, Object> config, Consumer<String> warn) {
        this.trainer = trainer;
        this.outputs = outputs;
        this.stage = stage;
        this.store = new CheckpointStore(outputs.checkpoints(), keepLast);
        this.seed = seed;
        this.rngScheme = rngScheme;
        this.config = config;
        this.warn = warn;
    }

    /**
     * Opens the run. Resuming: removes a killed save's leftovers and returns the newest checkpoint
     * with its state, once checked (see the class comment); the caller loads it, then calls
     * {@link #dropOutputsAfter}. Not resuming: fails when checkpoints or metrics lines of this stage
     * are already there.
     */
    public Optional<Restored> open(boolean resume) {
        if (!resume) {
            if (MetricsLog.hasLines(outputs.metrics(), stage) || !store.list().isEmpty()) {
                throw new IllegalStateException(trainer + ": " + outputs.checkpoints() + " or " + outputs.metrics()
                        + " already holds a run; resume it or choose a new output directory");
            }
            return Optional.empty();
        }
        store.cleanLeftovers();
        return store.latest().map(ck -> new Restored(ck, readChecked(ck)));
    }

    /**
     * Drops this stage's metrics lines and the sample files of steps after {@code step} (a resume
     * runs them again, so each step appears once).
     *
     * @return the number of metrics lines dropped
     */
    public int dropOutputsAfter(long step) {
        int dropped = MetricsLog.truncateAfter(outputs.metrics(), step, stage);
        SampleFiles.dropAfter(outputs.samples(), step);
        return dropped;
    }

    /** The state of checkpoint {@code ck}, refused when its seed or RNG scheme differs from this run's. */
    TrainerState readChecked(Path ck) {
        TrainerState s = TrainerState.fromJson(CheckpointStore.readState(ck), ck.resolve(CheckpointStore.STATE_FILE).toString());
        if (s.seed() != seed) {
            throw new IllegalStateException(trainer + " resume: " + ck + " was written with seed " + s.seed() + " but the config has seed "
                    + seed + "; a resumed run must use the same seed");
        }
        if (!rngScheme.equals(s.rngScheme())) {
            throw new IllegalStateException(trainer + " resume: " + ck + " uses RNG scheme '" + s.rngScheme() + "', this version '"
                    + rngScheme + "'");
        }
        List<String> changed = changedOptions(s.config(), config);
        if (!changed.isEmpty()) warn.accept(trainer + " resume: config differs from the checkpoint's: " + changed);
        return s;
    }

    /** {@code key: was -> now} for every option of {@code now} whose value differs from {@code was}'s (absent = null). */
    static List<String> changedOptions(Map<String, Object> was, Map<String, Object> now) {
        List<String> changed = new ArrayList<>();
        for (var e : now.entrySet()) {
            Object before = was.get(e.getKey());
            if (!String.valueOf(before).equals(String.valueOf(e.getValue()))) changed.add(e.getKey() + ": " + before + " -> " + e.getValue());
        }
        return changed;
    }

    /**
     * Loads each parameter from the model of checkpoint {@code ck} (by name), failing on the first it
     * lacks; from its adapter_model.safetensors when {@code ck} holds LoRA adapters (PEFT layout).
     */
    public void loadParameters(Path ck, List<Parameter> params) {
        if (PeftAdapterFiles.isAdapterDir(ck)) {
            try {
                PeftAdapterFiles.loadParameters(ck, params);
                return;
            } catch (IOException e) {
                throw new UncheckedIOException(trainer + " resume: cannot read the adapters of " + ck + ": " + e.getMessage(), e);
            }
        }
        try (HfCheckpoint hc = HfCheckpoint.open(ck)) {
            for (Parameter p : params) {
                if (!hc.contains(p.name())) throw new IllegalStateException(trainer + " resume: " + ck + " has no tensor " + p.name());
                p.copyFrom(hc.load(p.name(), p.shape()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(trainer + " resume: cannot read the model of " + ck + ": " + e.getMessage(), e);
        }
    }

    /** The optimizer tensors of checkpoint {@code ck}. */
    public static Map<String, float[]> optimizerTensors(Path ck) {
        return CheckpointStore.readOptimizer(ck);
    }

    /** Writes checkpoint {@code state.step()} atomically (see {@link CheckpointStore#save}). */
    public Path save(CheckpointStore.ModelWriter model, Map<String, float[]> optimizerTensors, TrainerState state) {
        return store.save(state.step(), model, optimizerTensors, state.toJson());
    }

    /** The newest checkpoint, for messages (null: none written yet). */
    public String lastGood() {
        return store.latest().map(Path::toString).orElse(null);
    }

    /** The state a checkpoint of this run records: this run's seed, RNG scheme and options. */
    public TrainerState state(long step, long optimizerUpdates, long consumed, NonFiniteStepPolicy nonFinite, long numTokens,
                              Map<String, Double> optimizerScalars, Map<String, Double> extra) {
        return new TrainerState(step, optimizerUpdates, consumed, seed, rngScheme, nonFinite.streak(), nonFinite.total(), numTokens,
                optimizerScalars, config, extra);
    }
}

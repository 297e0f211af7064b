package io.r1kit.grpo.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.checkpoint.TrainerState;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.fuzz.FuzzTarget;
import io.r1kit.model.optim.AdamW;
import io.r1kit.model.tensor.Parameter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz targets for what a resumed run reads of its own files after a crash: trainer_state.json,
 * optimizer.safetensors (imported into an optimizer) and metrics.jsonl (truncated to the restored
 * step). A damaged file is refused with an error naming it; the metrics file's torn lines are dropped.
 */
class CheckpointStateFuzzTest {

    @TempDir
    Path tmp;

    private Path checkpoint() throws Exception {
        CheckpointStore store = new CheckpointStore(tmp.resolve("ckpts"), 2);
        TrainerState st = new TrainerState(12, 12, 96, 7, TrainerState.RNG_SCHEME, 0, 1, 4096,
                Map.of("lr", 1e-3, "w.step", 12.0), Map.of("beta", 0.04, "loss_type", "dr_grpo"), Map.of());
        return store.save(12, dir -> Files.createDirectories(dir),
                Map.of("w.m", new float[] {0.1f, -0.2f, 0.3f, 0, 0, 1e-8f}, "w.v", new float[] {1e-4f, 2e-4f, 0, 0, 1, 3}),
                st.toJson());
    }

    private static AdamW optimizer() {
        Parameter w = new Parameter("w", new float[6], 2, 3);
        return new AdamW(List.of(w), AdamW.Config.defaults(1e-3f));
    }

    @Test
    void trainerStateJson() throws Exception {
        Path ck = checkpoint();
        Path f = ck.resolve(CheckpointStore.STATE_FILE);
        byte[] seed = Files.readAllBytes(f);
        int accepted = new FuzzTarget("trainer-state", List.of(seed)).run(
                List.of(UncheckedIOException.class, IllegalStateException.class), CheckpointStore.STATE_FILE, input -> {
                    Files.write(f, input);
                    TrainerState.fromJson(CheckpointStore.readState(ck), f.toString());
                });
        assertTrue(accepted > 0);
    }

    @Test
    void optimizerState() throws Exception {
        Path ck = checkpoint();
        Path f = ck.resolve(CheckpointStore.OPTIMIZER_FILE);
        byte[] seed = Files.readAllBytes(f);
        // a file that reads but does not fit the optimizer's parameters is refused by AdamW, naming the parameter
        int accepted = new FuzzTarget("optimizer-state", List.of(seed)).run(
                List.of(UncheckedIOException.class, IllegalArgumentException.class), CheckpointStore.OPTIMIZER_FILE + "|AdamW state", input -> {
                    Files.write(f, input);
                    optimizer().importState(new AdamW.State(CheckpointStore.readOptimizer(ck), Map.of("lr", 1e-3)));
                });
        assertTrue(accepted > 0);
    }

    @Test
    void metricsFileTruncatedOnResume() throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        String seed = """
                {"step": 1, "stage": "r1_zero", "reward": 0.25, "completions/mean_length": 27.5}
                {"step": 2, "stage": "r1_zero", "reward": 0.5, "note": "ünïcödé ✓"}
                {"step": 3, "stage": "r1_zero", "reward": 0.75}
                {"step": 1, "stage": "sft", "loss": 1.5}
                """;
        int accepted = new FuzzTarget("metrics-jsonl", List.of(seed.getBytes(StandardCharsets.UTF_8))).run(
                List.of(UncheckedIOException.class), "metrics.jsonl", input -> {
                    Files.write(f, input);
                    MetricsLog.truncateAfter(f, 2, "r1_zero");
                });
        assertTrue(accepted > 0);
    }

    @Test
    void aLineTornInsideAMultiByteCharacterIsDroppedNotFatal() throws Exception {
        Path f = tmp.resolve("metrics.jsonl");
        byte[] good = "{\"step\": 1, \"stage\": \"s\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] torn = "{\"step\": 2, \"stage\": \"s\", \"note\": \"✓".getBytes(StandardCharsets.UTF_8);
        byte[] cut = new byte[good.length + torn.length - 2];   // the last character's bytes cut in half
        System.arraycopy(good, 0, cut, 0, good.length);
        System.arraycopy(torn, 0, cut, good.length, torn.length - 2);
        Files.write(f, cut);
        assertEquals(1, MetricsLog.truncateAfter(f, 1, "s"));
        assertEquals(new String(good, StandardCharsets.UTF_8), Files.readString(f));
    }
}

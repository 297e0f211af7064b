package io.r1kit.grpo.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {

    static CheckpointStore.ModelWriter model(String marker) {
        return dir -> {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("model.safetensors"), marker);
        };
    }

    static com.fasterxml.jackson.databind.JsonNode state(long step) {
        return new ObjectMapper().createObjectNode().put("step", step);
    }

    @Test
    void savesKeepsTheNewestAndPointsLatestAtIt(@TempDir Path dir) {
        CheckpointStore s = new CheckpointStore(dir, 2);
        for (long step = 1; step <= 4; step++) {
            s.save(step, model("m" + step), Map.of("w.m", new float[] {step, 2}), state(step));
        }
        assertEquals(List.of(dir.resolve("checkpoint-3"), dir.resolve("checkpoint-4")), s.list());
        assertEquals(dir.resolve("checkpoint-4"), s.latest().orElseThrow());
        assertArrayEquals(new float[] {4, 2}, CheckpointStore.readOptimizer(dir.resolve("checkpoint-4")).get("w.m"));
        assertEquals(4, CheckpointStore.readState(dir.resolve("checkpoint-4")).get("step").asLong());
    }

    @Test
    void aCrashWhileSavingLeavesThePreviousCheckpointIntactAndLatest(@TempDir Path dir) throws IOException {
        CheckpointStore s = new CheckpointStore(dir, 2);
        s.save(1, model("good"), Map.of(), state(1));
        // the process dies after writing part of checkpoint 2 (here: the model writer throws midway)
        assertThrows(UncheckedIOException.class, () -> s.save(2, d -> {
            Files.createDirectories(d);
            Files.writeString(d.resolve("model.safetensors"), "half");
            throw new IOException("killed");
        }, Map.of(), state(2)));
        assertEquals(dir.resolve("checkpoint-1"), s.latest().orElseThrow());
        assertEquals(List.of(dir.resolve("checkpoint-1")), s.list());
        assertFalse(Files.exists(dir.resolve("checkpoint-2")));
        assertTrue(hasDotEntries(dir), "the partial directory is left behind by the crash");
        s.cleanLeftovers();
        assertFalse(hasDotEntries(dir));
        assertEquals("good", Files.readString(dir.resolve("checkpoint-1/model.safetensors")));
    }

    @Test
    void aStaleOrMissingLatestFallsBackToTheNewestCompleteCheckpoint(@TempDir Path dir) throws IOException {
        CheckpointStore s = new CheckpointStore(dir, 3);
        s.save(1, model("a"), Map.of(), state(1));
        s.save(2, model("b"), Map.of(), state(2));
        Files.writeString(dir.resolve("latest"), "checkpoint-9");
        assertEquals(dir.resolve("checkpoint-2"), s.latest().orElseThrow());
        Files.delete(dir.resolve("latest"));
        assertEquals(dir.resolve("checkpoint-2"), s.latest().orElseThrow());
        // a directory without trainer_state.json is not a checkpoint
        Files.createDirectories(dir.resolve("checkpoint-5"));
        assertEquals(dir.resolve("checkpoint-2"), s.latest().orElseThrow());
    }

    private static boolean hasDotEntries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("."));
        }
    }
}

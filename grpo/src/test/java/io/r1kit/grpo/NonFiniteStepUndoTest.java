package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.grpo.train.TrainerListener;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.grpo.ppo.PpoTrainer;
import io.r1kit.grpo.ppo.PpoTrainerTestAccess;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.device.EmulatedDevice;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step whose first update is finite and whose second is not leaves the weights (and the optimizer)
 * as they were at the step's start. A learning rate of 1e30 makes the first update finite (the
 * initial weights) and throws the weights to ~1e30, so the second forward overflows: before the
 * fix the first update stayed applied and the weights were left at ~1e30.
 */
class NonFiniteStepUndoTest {

    static void assertSameWeights(CausalLM expected, CausalLM actual) {
        List<Parameter> a = expected.parameters(), b = actual.parameters();
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).data(), b.get(i).data(), 0f, a.get(i).name());
    }

    static void grpoStepIsUndone(CausalLM model, Path dir, Object... extra) {
        ToyTask task = new ToyTask();
        List<Object> kv = new ArrayList<>(List.of("max_steps", 1, "learning_rate", 1e30, "lr_scheduler", "constant"));
        kv.addAll(List.of(extra));
        List<TrainerListener.Update> updates = new ArrayList<>();
        GrpoTrainer.Result r = task.denseTrainer(GrpoTrainerTest.config(kv.toArray()), model, dir).listener(new TrainerListener() {
            @Override
            public void onUpdate(TrainerListener.Update u) {
                updates.add(u);
            }
        }).build().train();
        assertEquals(1, r.nonFiniteSteps());
        assertEquals(2, updates.size(), "one finite update, then the non-finite one: " + updates);
        assertFalse(updates.get(0).skipped());
        assertTrue(updates.get(1).skipped());
        assertSameWeights(task.model(5), model);
    }

    @Test
    void grpoWithTwoMiniBatches(@TempDir Path dir) {
        grpoStepIsUndone(new ToyTask().model(5), dir, "num_mini_batches", 2);
    }

    @Test
    void grpoWithTwoIterations(@TempDir Path dir) {
        grpoStepIsUndone(new ToyTask().model(5), dir, "num_iterations", 2);
    }

    @Test
    void grpoOnTheDevice(@TempDir Path dir) {
        grpoStepIsUndone(new ToyTask().model(5).moveTo(new EmulatedDevice()), dir, "num_mini_batches", 2);
    }

    @Test
    void ppoWithTwoEpochs(@TempDir Path dir) {
        CausalLM m = PpoTrainerTestAccess.model(5);
        PpoTrainer.Result r = PpoTrainerTestAccess.run(m, dir, "max_steps", 1, "learning_rate", 1e30);
        assertEquals(1, r.nonFiniteSteps());
        assertSameWeights(PpoTrainerTestAccess.model(5), m);
        List<JsonNode> lines = MetricsLog.read(dir.resolve("metrics.jsonl"));
        assertEquals(1, lines.get(0).get("non_finite_steps").asInt());
    }
}

package io.r1kit.grpo.sft;

import static io.r1kit.grpo.sft.SftTestSupport.TOK;
import static io.r1kit.grpo.sft.SftTestSupport.kv;
import static io.r1kit.grpo.sft.SftTestSupport.pc;
import static io.r1kit.grpo.sft.SftTestSupport.tinyModel;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.Dataset;
import io.r1kit.data.Example;
import io.r1kit.grpo.train.CheckpointEdits;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SFT's resume makes the checks of every trainer: another seed or RNG scheme is refused; another option only warns. */
class SftResumeChecksTest {

    private static Dataset data() {
        List<Example> xs = new ArrayList<>();
        for (int i = 0; i < 12; i++) xs.add(pc("e" + i, "what is " + i, "it is " + i));
        return new Dataset(xs);
    }

    private static Map<String, Object> config(Object... extra) {
        Map<String, Object> c = kv("template", "toy", "max_steps", 4, "batch_size", 2, "save_steps", 2, "learning_rate", 1e-3);
        c.putAll(kv(extra));
        return c;
    }

    private static SftTrainer.Builder trainer(Map<String, Object> cfg, List<String> log, Path dir) {
        return SftTrainer.builder(tinyModel(3), TOK, SftConfig.of(cfg)).log(log::add).outputDir(dir);
    }

    /** Halts after the checkpoint at step 2; returns it. */
    private static Path twoSteps(Path dir) {
        assertTrue(trainer(config(), new ArrayList<>(), dir).haltAfterStep(2).build().train(data(), null).halted());
        return dir.resolve("checkpoints/checkpoint-2");
    }

    @Test
    void refusesAChangedSeed(@TempDir Path dir) {
        twoSteps(dir);
        var e = assertThrows(IllegalStateException.class,
                () -> trainer(config("seed", 43), new ArrayList<>(), dir).resume(true).build().train(data(), null));
        assertTrue(e.getMessage().contains("seed"), e.getMessage());
    }

    @Test
    void refusesAChangedRngScheme(@TempDir Path dir) throws Exception {
        CheckpointEdits.setState(twoSteps(dir), "rng_scheme", "sft: java.util.Random(seed)");
        var e = assertThrows(IllegalStateException.class,
                () -> trainer(config(), new ArrayList<>(), dir).resume(true).build().train(data(), null));
        assertTrue(e.getMessage().contains("RNG scheme"), e.getMessage());
    }

    @Test
    void anotherChangedOptionResumesWithAWarning(@TempDir Path dir) {
        twoSteps(dir);
        List<String> log = new ArrayList<>();
        SftTrainer.Result r = trainer(config("learning_rate", 2e-3), log, dir).resume(true).build().train(data(), null);
        assertEquals(4, r.steps());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("warning: sft resume: config differs") && l.contains("learning_rate")), log.toString());
    }
}

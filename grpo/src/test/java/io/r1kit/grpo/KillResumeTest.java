package io.r1kit.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.checkpoint.CheckpointStore;
import io.r1kit.grpo.metrics.MetricsLog;
import io.r1kit.model.arch.CausalLM;
import io.r1kit.model.backend.ReferenceBackend;
import io.r1kit.model.hf.HfCheckpoint;
import io.r1kit.model.tensor.Backends;
import io.r1kit.model.tensor.Parameter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real kills: a child JVM trains with a checkpoint every 2 steps and is SIGKILLed at random moments,
 * then restarted with resume, until it finishes. After every kill the latest checkpoint must load
 * completely; at the end the weights must equal an uninterrupted run's bit for bit and every step
 * must appear exactly once in metrics.jsonl. (Scalar backend: see GrpoTrainerTest on why.)
 */
class KillResumeTest {

    static final int STEPS = 10;
    static final GrpoConfig CONFIG = GrpoConfig.of(Map.of("prompts_per_step", 4, "num_generations", 4, "max_completion_length", 2,
            "max_prompt_length", 8, "learning_rate", 1e-2, "max_steps", STEPS, "save_steps", 2, "log_completions_steps", 1,
            "beta", 0.04, "num_iterations", 2));

    @Test
    void killedAtRandomMomentsAndResumedEqualsAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path killed = tmp.resolve("killed"), whole = tmp.resolve("whole");
        SplittableRandom rnd = new SplittableRandom(2024);
        CheckpointStore store = new CheckpointStore(killed.resolve("checkpoints"), 2);
        List<Long> resumedFrom = new ArrayList<>();
        int kills = 0;
        Path metrics = killed.resolve("metrics.jsonl");
        for (int attempt = 0; attempt < 4; attempt++) {
            Process p = child(killed, tmp.resolve("child-" + attempt + ".log"));
            boolean exited;
            if (attempt < 3) {
                // kill once the child has made 2-3 more steps, at a random moment (0-250 ms) after that:
                // progress-based, so a slow machine does not turn every kill into a kill during start-up
                int target = lines(metrics) + 2 + rnd.nextInt(2);
                while (p.isAlive() && lines(metrics) < target) Thread.sleep(10);
                Thread.sleep(rnd.nextInt(250));
                exited = !p.isAlive();
                if (!exited) {
                    p.destroyForcibly();
                    p.waitFor();
                    kills++;
                }
            } else {
                exited = p.waitFor(300, TimeUnit.SECONDS);
            }
            if (exited) assertEquals(0, p.exitValue(), "child failed, see " + tmp.resolve("child-" + attempt + ".log"));
            var latest = store.latest();
            if (latest.isPresent()) {
                // whatever moment the kill hit, the latest checkpoint is complete and loadable
                long step = CheckpointStore.stepOf(latest.get());
                resumedFrom.add(step);
                assertEquals(step, CheckpointStore.readState(latest.get()).get("step").asLong());
                CheckpointStore.readOptimizer(latest.get());
                try (HfCheckpoint ck = HfCheckpoint.open(latest.get())) {
                    ck.loadAll();
                }
            }
            if (exited) break;
        }
        System.out.println("KillResumeTest: " + kills + " kills, latest checkpoint after each: " + resumedFrom);
        assertTrue(kills >= 1, "at least one kill must have hit a running trainer");
        assertEquals(STEPS, CheckpointStore.stepOf(store.latest().orElseThrow()));

        CausalLM reference;
        try (var be = Backends.use(ReferenceBackend.INSTANCE)) {
            ToyTask task = new ToyTask();
            reference = task.model(11);
            task.trainer(CONFIG, reference, whole).build().train();
        }
        try (HfCheckpoint ck = HfCheckpoint.open(store.latest().orElseThrow())) {
            for (Parameter p : reference.parameters()) assertArrayEquals(p.data(), ck.load(p.name()), 0f, p.name());
        }
        List<JsonNode> lines = MetricsLog.read(killed.resolve("metrics.jsonl"));
        assertEquals(STEPS, lines.size(), "each step exactly once after " + kills + " kills (resumed from " + resumedFrom + ")");
        for (int i = 0; i < STEPS; i++) assertEquals(i + 1, lines.get(i).get("step").asInt());
        List<JsonNode> ref = MetricsLog.read(whole.resolve("metrics.jsonl"));
        for (int i = 0; i < STEPS; i++) assertEquals(ref.get(i).get("reward"), lines.get(i).get("reward"), "reward of step " + (i + 1));
    }

    static int lines(Path f) {
        try {
            return java.nio.file.Files.exists(f) ? (int) java.nio.file.Files.readAllLines(f).stream().filter(l -> l.endsWith("}")).count() : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static Process child(Path dir, Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), ToyTrainMain.class.getName(), dir.toString());
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}

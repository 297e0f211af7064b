package io.r1kit.pipeline.faults;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1kit.grpo.checkpoint.FaultPoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill a run at many moments and resume it: the finished run must equal an uninterrupted one bit for
 * bit (eval files, final weights, every metrics line once with the same values) and leave no temporary
 * files. Each interruption is either a SIGKILL at a random moment or a halt at a named fault point (half
 * a checkpoint written, half a metrics line written). The suite runs a few; {@code scripts/kill-resume}
 * runs {@code -Dr1kit.kills=20} or more.
 */
class KillResumeTest {
    static final String CONFIG = """
            name: killme
            seed: 5
            template: toy
            data:
              corpus: {generate: {task: pretrain-corpus, n: 300, seed: 1}}
              train:  {generate: {task: arithmetic, n: 40, seed: 2, params: {part: train}}}
              test:   {generate: {task: arithmetic, n: 6, seed: 3, params: {part: test}}}
            tokenizer: {char: {}}
            model:
              scratch: {hidden_size: 32, intermediate_size: 64, num_layers: 1, num_heads: 2, max_positions: 128}
            rewards:
              - {name: accuracy, weight: 1.0}
              - {name: format, weight: 0.5}
            stages:
              - {name: pretrain, type: pretrain, data: corpus, max_seq_length: 128, batch_size: 4, max_steps: 6, logging_steps: 1, save_steps: 2}
              - name: r1_zero
                type: grpo
                data: train
                eval_data: test
                prompts_per_step: 2
                num_generations: 2
                max_completion_length: 12
                learning_rate: 0.001
                max_steps: 6
                save_steps: 2
                log_completions_steps: 1
              - {name: final_eval, type: eval, data: test, max_completion_length: 12}
            """;

    @TempDir
    Path tmp;

    private Process start(Path cfg, Path run, String fault) throws IOException {
        return ChildRuns.start(cfg, run, tmp.resolve("child.log"), fault == null ? List.of() : List.of("-Dr1kit.fault.halt=" + fault));
    }

    private int runToEnd(Path cfg, Path run) throws Exception {
        return ChildRuns.runToEnd(cfg, run, tmp.resolve("child.log"), List.of());
    }

    @Test
    void killedAndResumedRunsEqualTheUninterruptedRun() throws Exception {
        int kills = Integer.getInteger("r1kit.kills", 4);
        Path cfg = tmp.resolve("killme.yaml");
        Files.writeString(cfg, CONFIG);
        Path ref = tmp.resolve("ref"), run = tmp.resolve("run");
        long t0 = System.nanoTime();
        assertEquals(0, runToEnd(cfg, ref), () -> log());
        long refMillis = (System.nanoTime() - t0) / 1_000_000;

        // the interruptions: the named fault points first (a checkpoint of each stage, a metrics line of each),
        // then SIGKILLs at random moments of a run's length
        List<String> plan = new ArrayList<>(List.of(FaultPoints.CHECKPOINT_WRITE + "#1", FaultPoints.METRICS_LINE + "#4",
                FaultPoints.CHECKPOINT_WRITE + "#4", FaultPoints.METRICS_LINE + "#9"));
        while (plan.size() < kills) plan.add("sigkill");
        plan = plan.subList(0, Math.max(kills, 0));
        Random rnd = new Random(Long.getLong("r1kit.kills.seed", 11));
        int interrupted = 0, finished = 0;
        for (String fault : plan) {
            Process p;
            boolean hit;
            if (fault.equals("sigkill")) {
                p = start(cfg, run, null);
                long at = 500 + (long) (rnd.nextDouble() * refMillis);
                hit = !p.waitFor(at, TimeUnit.MILLISECONDS);
                if (hit) {
                    p.destroyForcibly();
                    p.waitFor();
                } else {
                    assertEquals(0, p.exitValue(), () -> log());
                }
            } else {
                p = start(cfg, run, fault);
                assertTrue(p.waitFor(10, TimeUnit.MINUTES));
                hit = p.exitValue() == 137;
                if (!hit) assertEquals(0, p.exitValue(), () -> fault + ": " + log());
            }
            if (hit) {
                interrupted++;
            } else if (isFinished(run)) {
                // the resumed run reached its end: check it, then start the next interruptions on a fresh run,
                // so that every later one hits a running job instead of a finished one
                assertSameAsReference(ref, run);
                deleteRecursively(run);
                finished++;
            }
        }
        assertTrue(interrupted >= Math.min(kills, 2), "only " + interrupted + " of " + kills + " interruptions hit a running job");
        assertEquals(0, runToEnd(cfg, run), () -> log());
        System.out.printf("kill-resume: %d interruptions (%d hit the run), %d runs finished between them, reference run %.1f s%n",
                kills, interrupted, finished + 1, refMillis / 1e3);
        assertSameAsReference(ref, run);
    }

    private static boolean isFinished(Path run) {
        return Files.exists(run.resolve("eval/final_eval.json"));
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** The finished run equals the uninterrupted one: eval files, weights, every metrics line once, no temporary files. */
    private static void assertSameAsReference(Path ref, Path run) throws IOException {
        // identical results
        for (String f : List.of("eval/final_eval.json", "eval/r1_zero.json", "eval/pretrain.json")) {
            assertEquals(ChildRuns.withoutTimes(ChildRuns.JSON.readTree(ref.resolve(f).toFile())), ChildRuns.withoutTimes(ChildRuns.JSON.readTree(run.resolve(f).toFile())), f);
        }
        for (String w : List.of("checkpoints/pretrain/final/model.safetensors", "checkpoints/r1_zero/checkpoint-6/model.safetensors")) {
            assertArrayEquals(Files.readAllBytes(ref.resolve(w)), Files.readAllBytes(run.resolve(w)), w);
        }
        Map<String, JsonNode> a = ChildRuns.metricsByStep(ref), b = ChildRuns.metricsByStep(run);
        assertEquals(a.keySet(), b.keySet(), "every step exactly once");
        for (String k : a.keySet()) assertEquals(a.get(k), b.get(k), "metrics line " + k);
        try (Stream<Path> all = Files.walk(run)) {
            List<Path> leftovers = all.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".tmp") || n.endsWith(".partial") || n.endsWith(".deleting");
            }).toList();
            assertEquals(List.of(), leftovers, "temporary files left behind");
        }
    }

    private String log() {
        return ChildRuns.read(tmp.resolve("child.log"));
    }
}

package io.r1kit.rewards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code command} reward: the Python example from YAML, and the failure modes of the protocol. */
class CommandRewardTest {

    static boolean python;

    @BeforeAll
    static void findPython() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            python = p.waitFor() == 0;
        } catch (Exception e) {
            python = false;
        }
    }

    private static void needPython() {
        Assumptions.assumeTrue(python, "python3 not found on PATH: skipping the Python command-reward test");
    }

    @Test
    void pythonVerifierFromYaml(@TempDir Path dir) throws Exception {
        needPython();
        Path script = ExamplesDir.find().resolve("python_verifier.py");
        Path yaml = dir.resolve("r.yaml");
        Files.writeString(yaml, "rewards:\n"
                + "  - name: command\n    label: python_verifier\n    weight: 1.0\n"
                + "    params: {command: [python3, \"" + script + "\"], timeout: 30}\n"
                + "  - {name: format, weight: 0.5}\n");
        try (CompositeReward c = CompositeReward.fromConfig(RewardConfig.load(yaml), List.of(), List.of())) {
            RewardBatchResult r = c.score(List.of(
                    Completion.of("<think>x</think><answer>1,234</answer>", Map.of("answer", "Sum is 1234\n#### 1234")),
                    Completion.of("<think>x</think><answer>12</answer>", Map.of("answer", "13")),
                    Completion.of("<answer>12</answer>", Map.of("question", "no answer column"))));
            assertEquals(List.of("python_verifier", "format"), c.names());
            assertEquals(1.0, r.value("python_verifier", 0));
            assertEquals(0.0, r.value("python_verifier", 1));
            assertNull(r.value("python_verifier", 2));
            assertEquals(1.5, r.totals()[0], 1e-12);
            assertEquals(0.0, r.metrics().get("rewards/python_verifier/errors"));
        }
    }

    private static CompositeReward single(Map<String, Object> params, Duration timeout) {
        RewardFunction f = RewardRegistry.builtins().createByName("command", params);
        return new CompositeReward(List.of(new CompositeReward.Member("cmd", f, 1.0, timeout)));
    }

    @Test
    void timeoutKillsTheProgramAndScoresNull() {
        needPython();
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", "import time; time.sleep(30)"), "timeout", 0.5),
                Duration.ofSeconds(20))) {
            long t0 = System.nanoTime();
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of()), Completion.of("b", Map.of())));
            assertTrue(System.nanoTime() - t0 < 10_000_000_000L);
            assertNull(r.value("cmd", 0));
            assertEquals(2.0, r.metrics().get("rewards/cmd/errors"));
        }
    }

    @Test
    void protocolErrorsAreCountedNotFatal() {
        needPython();
        // prints one line for two completions
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", "import sys; sys.stdin.read(); print(1)")), Duration.ofSeconds(20))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of()), Completion.of("b", Map.of())));
            // retried one by one: each single call prints one line and succeeds
            assertEquals(1.0, r.value("cmd", 0));
            assertEquals(1.0, r.value("cmd", 1));
        }
        // non-zero exit
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", "import sys; sys.exit(3)")), Duration.ofSeconds(20))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of())));
            assertNull(r.value("cmd", 0));
            assertEquals(1.0, r.metrics().get("rewards/cmd/errors"));
        }
        // not JSON
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", "import sys; sys.stdin.read(); print('yes')")), Duration.ofSeconds(20))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of())));
            assertNull(r.value("cmd", 0));
            assertEquals(1.0, r.metrics().get("rewards/cmd/errors"));
        }
    }

    @Test
    void missingProgramIsAnError() {
        try (CompositeReward c = single(Map.of("command", "/nonexistent/reward-program --x"), Duration.ofSeconds(5))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of())));
            assertNull(r.value("cmd", 0));
            assertEquals(1.0, r.metrics().get("rewards/cmd/errors"));
        }
    }
}

package io.r1kit.rewards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.rewards.builtin.CommandReward;
import io.r1kit.rewards.builtin.CommandRewardAccess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    @Test
    void environmentIsClearedToTheAllowListPlusWhatIsAskedFor() {
        Map<String, String> parent = Map.of("PATH", "/bin", "HOME", "/root", "OPENAI_API_KEY", "sk-secret",
                "HF_TOKEN", "hf_secret", "MY_SETTING", "7");
        Map<String, String> child = CommandRewardAccess.childEnvironment(parent,
                Set.of("MY_SETTING"), Map.of("EXTRA", 1));
        assertEquals(Map.of("PATH", "/bin", "HOME", "/root", "MY_SETTING", "7", "EXTRA", "1"), child);
    }

    @Test
    void programSeesNoVariableOutsideTheAllowList(@TempDir Path dir) throws Exception {
        needPython();
        // prints, for each completion, how many of its environment's names are neither allowed nor made by the
        // shell or by a pyenv shim standing in for python3
        String code = "import os,sys,json\n"
                + "allowed=set(json.loads(sys.argv[1]))|{'PWD','OLDPWD','SHLVL','_','EXTRA','LC_CTYPE'}\n"
                + "bad=[k for k in os.environ if k not in allowed and not k.lstrip('_').startswith('PYENV')]\n"
                + "sys.stderr.write(str(bad))\n"
                + "n=len(sys.stdin.read().splitlines())\n"
                + "print('\\n'.join([str(len(bad))]*n))\n"
                + "open('written-by-reward.txt','w').write('x')\n";
        Path script = dir.resolve("env_check.py");
        Files.writeString(script, code);
        String allowed = new ObjectMapper().writeValueAsString(
                CommandReward.ALLOWED_ENV);
        try (CompositeReward c = single(Map.of("command", List.of("python3", script.toString(), allowed),
                "env", Map.of("EXTRA", "1")), Duration.ofSeconds(20))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of()), Completion.of("b", Map.of())));
            assertEquals(0.0, r.value("cmd", 0));
            assertEquals(0.0, r.value("cmd", 1));
        }
        // the program wrote into its own working directory, not r1kit's
        assertTrue(Files.notExists(Path.of("written-by-reward.txt")));
    }

    @Test
    void memoryLimitStopsAProgramThatAllocatesTooMuch() {
        needPython();
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "memory limit applies on Linux only");
        String hog = "import sys; sys.stdin.read(); b = bytearray(600 * 1024 * 1024); print(1)";
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", hog), "memory_limit_mb", 250),
                Duration.ofSeconds(20))) {
            RewardBatchResult r = c.score(List.of(Completion.of("a", Map.of())));
            assertNull(r.value("cmd", 0));
            assertEquals(1.0, r.metrics().get("rewards/cmd/errors"));
        }
        // the same program without the limit runs
        try (CompositeReward c = single(Map.of("command", List.of("python3", "-c", hog), "memory_limit_mb", 0, "timeout", 120),
                Duration.ofSeconds(120))) {
            assertEquals(1.0, c.score(List.of(Completion.of("a", Map.of()))).value("cmd", 0));
        }
    }
}

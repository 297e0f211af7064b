package io.r1kit.grpo.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.model.fuzz.FuzzTarget;
import io.r1kit.rewards.builtin.CommandReward;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fuzz target for the replies of a {@code command} reward program: one line per completion, each a
 * number, null or {"reward": ...}. Anything else is an IOException naming the reward and the line.
 */
class CommandReplyFuzzTest {

    @Test
    void rewardProgramReplies() throws Exception {
        byte[] seed = "1\n0.5\nnull\n{\"reward\": -2.5}\n{\"reward\": null, \"why\": \"n/a\"}\n1e-3\n".getBytes(StandardCharsets.UTF_8);
        int accepted = new FuzzTarget("command-replies", List.of(seed)).run(List.of(IOException.class), "reward 'fuzz'", input -> {
            String text = new String(input, StandardCharsets.UTF_8);
            List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
            CommandReward.parseReplies("fuzz", lines, lines.size());
        });
        assertTrue(accepted > 0);
    }

    @Test
    void aRewardTooLargeForADoubleIsRefusedNotInfinite() {
        IOException e = assertThrows(IOException.class, () -> CommandReward.parseReplies("fuzz", List.of("1", "1e309"), 2));
        assertTrue(e.getMessage().contains("output line 2 is not a finite number"), e.getMessage());
    }
}

package io.r1kit.rewards.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * All 1319 GSM8K test solutions, used as completions against their own answers, score 1; shifted
 * by one line (each against the next problem's answer) at least 97% score 0.
 */
class Gsm8kAccuracyTest {

    @Test
    void solutionsScoreOneAgainstOwnAnswerAndZeroShifted() throws Exception {
        // r1kit.shared is set by surefire; the fallbacks cover a run from the module or root folder
        Path file = null;
        for (String shared : new String[] {System.getProperty("r1kit.shared"), "../../shared", "../shared"}) {
            if (shared == null) continue;
            file = Path.of(shared, "data", "gsm8k", "test.jsonl");
            if (Files.isRegularFile(file)) break;
        }
        Assumptions.assumeTrue(Files.isRegularFile(file), "GSM8K test set not found at " + file + " (r1kit.shared); skipping");
        ObjectMapper json = new ObjectMapper();
        List<String> answers = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) continue;
            JsonNode n = json.readTree(line);
            answers.add(n.get("answer").asText());
        }
        assertEquals(1319, answers.size());
        AccuracyReward acc = new AccuracyReward(RewardParams.empty("accuracy"));
        List<Completion> own = new ArrayList<>(), shifted = new ArrayList<>();
        for (int i = 0; i < answers.size(); i++) {
            own.add(Completion.of(answers.get(i), Map.of("answer", answers.get(i))));
            shifted.add(Completion.of(answers.get(i), Map.of("answer", answers.get((i + 1) % answers.size()))));
        }
        List<Double> ownScores = acc.score(own);
        List<Integer> failures = new ArrayList<>();
        for (int i = 0; i < ownScores.size(); i++) if (ownScores.get(i) != 1.0) failures.add(i);
        assertTrue(failures.isEmpty(), failures.size() + " solutions do not match their own answer, first: "
                + (failures.isEmpty() ? "" : answers.get(failures.get(0))));
        assertEquals(0L, acc.drainCounters().get("parse_failures"));

        List<Double> shiftedScores = acc.score(shifted);
        long zeros = shiftedScores.stream().filter(v -> v == 0.0).count();
        double rate = zeros / (double) shiftedScores.size();
        System.out.printf("GSM8K shifted: %d / %d score 0 (%.4f)%n", zeros, shiftedScores.size(), rate);
        assertTrue(rate >= 0.97, "only " + rate + " of shifted pairs score 0");
    }
}

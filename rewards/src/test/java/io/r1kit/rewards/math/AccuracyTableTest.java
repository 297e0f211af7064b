package io.r1kit.rewards.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.builtin.AccuracyReward;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Table-driven accuracy cases (src/test/resources/accuracy/cases.tsv: expected, gold, completion),
 * grouped by normalisation and comparison class, true and false.
 */
class AccuracyTableTest {

    record Case(String section, int expected, String gold, String completion, int line) { }

    static List<Case> load() throws IOException {
        List<Case> out = new ArrayList<>();
        try (InputStream in = AccuracyTableTest.class.getResourceAsStream("/accuracy/cases.tsv")) {
            String section = "";
            int lineNo = 0;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n", -1)) {
                lineNo++;
                if (line.isEmpty()) continue;
                if (line.startsWith("# ")) { section = line.substring(2); continue; }
                String[] f = line.split("\t", -1);
                if (f.length != 3) throw new IllegalStateException("cases.tsv line " + lineNo + ": expected 3 tab-separated fields");
                // the table writes newlines as \n inside GSM8K-style completions
                out.add(new Case(section, Integer.parseInt(f[0]), f[1], f[2].replace("\\n#", "\n#"), lineNo));
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        AccuracyReward reward = new AccuracyReward(RewardParams.empty("accuracy"));
        return load().stream().map(c -> DynamicTest.dynamicTest(
                c.section + " #" + c.line + ": " + c.gold + " vs " + abbreviate(c.completion), () -> {
                    Double got = reward.score(List.of(Completion.of(c.completion, Map.of("answer", c.gold)))).get(0);
                    assertEquals(c.expected, got, 0.0, () -> c.section + " line " + c.line + ": gold=" + c.gold + " completion=" + c.completion
                            + " extracted=" + AnswerExtractor.candidates(c.completion));
                }));
    }

    @Test
    void tableIsLargeAndBalanced() throws IOException {
        List<Case> cases = load();
        long positives = cases.stream().filter(c -> c.expected == 1).count();
        assertTrue(cases.size() >= 200, "need >= 200 cases, have " + cases.size());
        assertTrue(positives >= 100 && cases.size() - positives >= 50, "positives " + positives + " of " + cases.size());
        assertTrue(cases.stream().map(Case::section).distinct().count() >= 15, "sections");
    }

    private static String abbreviate(String s) {
        s = s.replace("\n", " ");
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}

package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.DatasetException;
import io.r1kit.data.testutil.ExprParser;
import io.r1kit.data.testutil.Rational;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The countdown search corpus ({@code countdown_style=search}): truthful traces and the documented rates. */
class CountdownSearchCorpusTest {
    private static final Pattern FORMATTED = Pattern.compile("<think> (.*) </think> <answer> (.*) </answer>");
    private static final Pattern STEP = Pattern.compile("(\\d+)([+*-])(\\d+)=(\\d+)");

    private static Map<String, String> params(String... kv) {
        Map<String, String> m = new HashMap<>(Map.of("task", "countdown", "prompt_style", "short", "countdown_style", "search",
                "min_nums", "3", "max_nums", "3", "max_num", "9", "ops", "+-*", "plain_rate", "0", "chat_rate", "0"));
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    /** One parsed trace: the attempts' final values and whether each claimed "ok". */
    record Trace(List<String> attempts, String answer) {}

    private static Trace parse(String completion) {
        Matcher f = FORMATTED.matcher(completion);
        assertTrue(f.matches(), completion);
        return new Trace(List.of(f.group(1).split(" wait, ")), f.group(2));
    }

    @Test
    void everyAttemptIsComputedRightAndChecksTheTargetTruthfully() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(5, new GeneratorParams(params("format_rate", "1")));
        int found = 0;
        for (int i = 0; i < 1500; i++) {
            Map<String, Object> m = g.generate(i);
            String completion = (String) m.get("completion");
            int target = (Integer) m.get("target");
            Trace t = parse(completion);
            assertTrue(t.attempts().size() <= 8, completion);
            for (int a = 0; a < t.attempts().size(); a++) {
                String att = t.attempts().get(a);
                Matcher s = STEP.matcher(att);
                long last = -1;
                int steps = 0;
                while (s.find()) {
                    long x = Long.parseLong(s.group(1)), y = Long.parseLong(s.group(3));
                    long z = switch (s.group(2)) {
                        case "+" -> x + y;
                        case "-" -> x - y;
                        default -> x * y;
                    };
                    assertEquals(z, Long.parseLong(s.group(4)), "arithmetic of " + att);
                    last = z;
                    steps++;
                }
                assertEquals(2, steps, "three numbers take two steps: " + att);
                boolean ok = att.endsWith(", ok.");
                assertEquals(last == target, ok, "the check against the target: " + att + " (target " + target + ")");
                assertTrue(ok || att.endsWith(", not " + target + "."), att);
                // only the last attempt may hit, and the search stops there
                if (a < t.attempts().size() - 1) assertTrue(!ok, completion);
            }
            boolean hits = ExprParser.parse(t.answer()).value.equals(Rational.of(target));
            assertEquals(hits, m.get("correct"), completion);
            assertEquals(hits, t.attempts().getLast().endsWith(", ok."), "the answer is the last attempt: " + completion);
            assertTrue(((String) m.get("style")).startsWith("search-" + t.attempts().size() + "-"), (String) m.get("style"));
            if (hits) found++;
        }
        assertTrue(found > 100 && found < 1400, "found " + found);
    }

    /**
     * The rates docs/findings-universe.md states: after a first miss a writer searches on with probability
     * search_rate × thorough_continue_rate + (1 − search_rate) × hasty_continue_rate, and a writer who has
     * searched on once is mostly a thorough one. Tolerances are 4 binomial standard deviations.
     */
    @Test
    void continueRatesFollowTheKnobs() {
        double s = 0.2, th = 0.9, ha = 0.1;
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(1, new GeneratorParams(params("format_rate", "1", "search_rate", "0.2",
                "thorough_continue_rate", "0.9", "hasty_continue_rate", "0.1", "max_attempts", "6")));
        int firstMiss = 0, searchedOn = 0, secondMiss = 0, searchedOnAgain = 0, n = 6000, formatted = 0;
        for (int i = 0; i < n; i++) {
            Trace t = parse((String) g.generate(i).get("completion"));
            formatted++;
            assertTrue(t.attempts().size() <= 6);
            if (!t.attempts().getFirst().endsWith(", ok.")) {
                firstMiss++;
                if (t.attempts().size() > 1) {
                    searchedOn++;
                    if (!t.attempts().get(1).endsWith(", ok.")) {
                        secondMiss++;
                        if (t.attempts().size() > 2) searchedOnAgain++;
                    }
                }
            }
        }
        assertEquals(n, formatted);
        double p1 = s * th + (1 - s) * ha;
        assertWithin(p1, searchedOn, firstMiss);
        double p2 = (s * th * th + (1 - s) * ha * ha) / p1;
        assertWithin(p2, searchedOnAgain, secondMiss);
    }

    @Test
    void formatRateAndMaxAttemptsAreHonoured() {
        PretrainCorpusGenerator g = new PretrainCorpusGenerator(3, new GeneratorParams(params("format_rate", "0.7", "search_rate", "1",
                "thorough_continue_rate", "1", "max_attempts", "3")));
        int formatted = 0, n = 3000;
        for (int i = 0; i < n; i++) {
            Map<String, Object> m = g.generate(i);
            if ((Boolean) m.get("formatted")) {
                formatted++;
                Trace t = parse((String) m.get("completion"));
                // everyone searches on until the target or the third attempt
                assertTrue(t.attempts().size() == 3 || t.attempts().getLast().endsWith(", ok."), (String) m.get("completion"));
            }
        }
        assertWithin(0.7, formatted, n);
    }

    @Test
    void sameSeedSameCorpusOtherSeedOtherCorpus() {
        GeneratorParams p = new GeneratorParams(params());
        PretrainCorpusGenerator a = new PretrainCorpusGenerator(11, p), b = new PretrainCorpusGenerator(11, new GeneratorParams(params()));
        PretrainCorpusGenerator c = new PretrainCorpusGenerator(12, new GeneratorParams(params()));
        StringBuilder sa = new StringBuilder(), sb = new StringBuilder(), sc = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            sa.append(a.generate(i).get("text")).append('\n');
            sb.append(b.generate(i).get("text")).append('\n');
            sc.append(c.generate(i).get("text")).append('\n');
        }
        assertEquals(sa.toString(), sb.toString());
        assertNotEquals(sa.toString(), sc.toString());
    }

    @Test
    void unknownStyleAndSearchKnobsWithoutSearchAreErrors() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> Generators.create(PretrainCorpusGenerator.NAME, 1, new GeneratorParams(params("countdown_style", "greedy"))));
        assertTrue(e.getMessage().contains("countdown_style='greedy'"), e.getMessage());
        Map<String, String> solution = params("search_rate", "0.5");
        solution.put("countdown_style", "solution");
        DatasetException e2 = assertThrows(DatasetException.class,
                () -> Generators.create(PretrainCorpusGenerator.NAME, 1, new GeneratorParams(solution)));
        assertTrue(e2.getMessage().contains("search_rate"), e2.getMessage());
    }

    private static void assertWithin(double p, int hits, int n) {
        double sd = Math.sqrt(p * (1 - p) / n);
        double got = (double) hits / n;
        assertTrue(Math.abs(got - p) <= 4 * sd, "rate " + got + " (" + hits + "/" + n + ") vs expected " + p + " ± " + 4 * sd);
    }
}

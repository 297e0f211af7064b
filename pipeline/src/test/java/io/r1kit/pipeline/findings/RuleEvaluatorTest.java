package io.r1kit.pipeline.findings;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1kit.pipeline.config.ConfigException;
import io.r1kit.pipeline.config.StrictYaml;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rule of a finding evaluated on hand-made metrics.jsonl / eval files: holds, does not hold, missing metric. */
class RuleEvaluatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Writes a run whose stage {@code r1_zero} logs {@code metric} with the given values at steps 1..n. */
    private static Path run(Path dir, String metric, double... values) throws Exception {
        Files.createDirectories(dir.resolve("eval"));
        StringBuilder sb = new StringBuilder();
        sb.append("{\"stage\":\"pretrain\",\"step\":1,\"loss\":3.0}\n");
        for (int i = 0; i < values.length; i++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("stage", "r1_zero");
            row.put("step", i + 1);
            row.put(metric, values[i]);
            sb.append(JSON.writeValueAsString(row)).append('\n');
        }
        Files.writeString(dir.resolve("metrics.jsonl"), sb.toString());
        return dir;
    }

    private static void eval(Path run, String stage, Map<String, Object> values) throws Exception {
        Files.writeString(run.resolve("eval").resolve(stage + ".json"), JSON.writeValueAsString(values));
    }

    private static Rule rule(String yaml) {
        return StrictYaml.load(yaml, "rule.yaml", Rule.class, List.of()).value();
    }

    private static final String GROWTH = """
            min_seeds: 3
            checks:
              - name: length grows
                left:  {metric: len, over: last 10%}
                right: {metric: len, over: first 10%}
                ratio_at_least: 1.5
                require: [mean, same_direction]
            """;

    /** 20 steps: the first 2 at {@code start}, the last 2 at {@code end}, linear in between. */
    private static double[] ramp(double start, double end) {
        double[] v = new double[20];
        for (int i = 0; i < 20; i++) v[i] = i < 2 ? start : i >= 18 ? end : start + (end - start) * (i - 1) / 17.0;
        return v;
    }

    @Test
    void holdsWhenTheMeanGrowsEnoughAndEverySeedGrows(@TempDir Path tmp) throws Exception {
        Map<Long, Path> seeds = new LinkedHashMap<>();
        seeds.put(1L, run(tmp.resolve("1"), "len", ramp(20, 40)));
        seeds.put(2L, run(tmp.resolve("2"), "len", ramp(20, 28)));   // 1.4× alone, but the mean is 1.6×
        seeds.put(3L, run(tmp.resolve("3"), "len", ramp(20, 28)));
        RuleEvaluator.Verdict v = new RuleEvaluator("growth", "r1_zero", Map.of("base", seeds)).evaluate(rule(GROWTH));
        assertTrue(v.holds(), v.reasons().toString());
        RuleEvaluator.CheckResult c = v.checks().get(0);
        assertEquals(32.0, c.left().mean(), 1e-9, "last 10% of 20 steps = the last 2 rows, mean over seeds");
        assertEquals(20.0, c.right().mean(), 1e-9);
        assertEquals(1.6, c.onMean(), 1e-9);
        assertEquals(2.0, c.bySeed().get(1L), 1e-9);
        assertEquals(40.0, v.measured().get("base").get("seed-1").get("len [r1_zero, last 10%]"), 1e-9);
        assertEquals(3, v.seeds());
    }

    @Test
    void doesNotHoldWhenOneSeedShrinksOrTooFewSeedsRan(@TempDir Path tmp) throws Exception {
        Map<Long, Path> seeds = new LinkedHashMap<>();
        seeds.put(1L, run(tmp.resolve("1"), "len", ramp(20, 60)));
        seeds.put(2L, run(tmp.resolve("2"), "len", ramp(20, 40)));
        seeds.put(3L, run(tmp.resolve("3"), "len", ramp(20, 18)));   // the mean still grows 2×, this seed does not
        RuleEvaluator.Verdict v = new RuleEvaluator("growth", "r1_zero", Map.of("base", seeds)).evaluate(rule(GROWTH));
        assertFalse(v.holds());
        assertEquals(Map.of(Rule.Require.MEAN, true, Rule.Require.SAME_DIRECTION, false), v.checks().get(0).passed());
        assertTrue(v.reasons().get(0).contains("same_direction"), v.reasons().toString());

        seeds.remove(3L);
        RuleEvaluator.Verdict two = new RuleEvaluator("growth", "r1_zero", Map.of("base", seeds)).evaluate(rule(GROWTH));
        assertFalse(two.holds(), "every check passes on 2 seeds, but the rule needs 3");
        assertTrue(two.checks().get(0).holds());
        assertTrue(two.reasons().get(0).contains("needs at least 3"), two.reasons().toString());
    }

    @Test
    void growthFromZeroPassesARatioButNoGrowthFromZeroDoesNot(@TempDir Path tmp) throws Exception {
        String rule = """
                checks:
                  - {name: reflection emerges, left: {metric: rate, over: last 50%}, right: {metric: rate, over: first 50%},
                     ratio_at_least: 2, require: [mean, every_seed]}
                """;
        Map<Long, Path> seeds = Map.of(1L, run(tmp.resolve("1"), "rate", 0, 0, 0.1, 0.3));
        assertTrue(new RuleEvaluator("r", "r1_zero", Map.of("base", seeds)).evaluate(rule(rule)).holds());
        Map<Long, Path> flat = Map.of(1L, run(tmp.resolve("2"), "rate", 0, 0, 0, 0));
        assertFalse(new RuleEvaluator("r", "r1_zero", Map.of("base", flat)).evaluate(rule(rule)).holds());
    }

    @Test
    void differenceMoreThanTheSpreadAndEqualAccuracyAcrossVariants(@TempDir Path tmp) throws Exception {
        String rule = """
                checks:
                  - name: grpo's wrong answers are longer
                    left:  {variant: loss_type=grpo, metric: wrong_len, over: last 10%}
                    right: {variant: loss_type=dr_grpo, metric: wrong_len, over: last 10%}
                    difference_more_than_spread: true
                  - name: equal accuracy
                    left:  {variant: loss_type=grpo, metric: accuracy, eval: final_eval}
                    right: {variant: loss_type=dr_grpo, metric: accuracy, eval: final_eval}
                    abs_difference_at_most: 0.03
                """;
        Map<String, Map<Long, Path>> runs = new LinkedHashMap<>();
        double[] grpoEnd = {50, 54, 52}, drEnd = {40, 44, 42};
        double[] grpoAcc = {0.50, 0.52, 0.51}, drAcc = {0.49, 0.50, 0.52};
        for (int s = 0; s < 3; s++) {
            Path g = run(tmp.resolve("g" + s), "wrong_len", 30, 30, 30, 30, 30, 30, 30, 30, 30, grpoEnd[s]);
            eval(g, "final_eval", Map.of("accuracy", grpoAcc[s]));
            runs.computeIfAbsent("loss_type=grpo", k -> new LinkedHashMap<>()).put((long) s + 1, g);
            Path d = run(tmp.resolve("d" + s), "wrong_len", 30, 30, 30, 30, 30, 30, 30, 30, 30, drEnd[s]);
            eval(d, "final_eval", Map.of("accuracy", drAcc[s]));
            runs.computeIfAbsent("loss_type=dr_grpo", k -> new LinkedHashMap<>()).put((long) s + 1, d);
        }
        RuleEvaluator.Verdict v = new RuleEvaluator("bias", "r1_zero", runs).evaluate(rule(rule));
        assertTrue(v.holds(), v.reasons().toString());
        assertEquals(10.0, v.checks().get(0).onMean(), 1e-9);
        assertEquals(2.0, v.checks().get(0).spread(), 1e-9, "both sides' seeds have std 2");
        assertEquals(0.02 / 3, v.checks().get(1).onMean(), 1e-9);

        // within the spread: 52,54,50 vs 51,53,49 differ by 1 < std 2
        double[] close = {49, 53, 51};
        for (int s = 0; s < 3; s++) run(tmp.resolve("d" + s), "wrong_len", 30, 30, 30, 30, 30, 30, 30, 30, 30, close[s]);
        RuleEvaluator.Verdict within = new RuleEvaluator("bias", "r1_zero", runs).evaluate(rule(rule));
        assertFalse(within.holds());
        assertFalse(within.checks().get(0).holds());
        assertTrue(within.checks().get(1).holds());
    }

    @Test
    void aMissingMetricOrEvalFileIsAnErrorNamingTheFindingMetricAndFile(@TempDir Path tmp) throws Exception {
        Path r = run(tmp.resolve("1"), "len", 1, 2, 3);
        Map<String, Map<Long, Path>> runs = Map.of("base", Map.of(1L, r));
        RuleEvaluator.MissingMetricException e = assertThrows(RuleEvaluator.MissingMetricException.class,
                () -> new RuleEvaluator("growth", "r1_zero", runs).evaluate(rule(GROWTH.replace("metric: len", "metric: lenght"))));
        assertTrue(e.getMessage().contains("finding 'growth'") && e.getMessage().contains("'lenght'")
                && e.getMessage().contains(r.resolve("metrics.jsonl").toString()) && e.getMessage().contains("[stage, step, len]"), e.getMessage());

        e = assertThrows(RuleEvaluator.MissingMetricException.class, () -> new RuleEvaluator("growth", "grpo", runs).evaluate(rule(GROWTH)));
        assertTrue(e.getMessage().contains("no rows of stage 'grpo'"), e.getMessage());

        String evalRule = """
                checks:
                  - {name: accurate, left: {metric: accuracy, eval: final_eval}, at_least: 0.5}
                """;
        e = assertThrows(RuleEvaluator.MissingMetricException.class, () -> new RuleEvaluator("acc", "r1_zero", runs).evaluate(rule(evalRule)));
        assertTrue(e.getMessage().contains("finding 'acc'") && e.getMessage().contains(r.resolve("eval/final_eval.json").toString()),
                e.getMessage());
        eval(r, "final_eval", Map.of("format_rate", 0.9));
        e = assertThrows(RuleEvaluator.MissingMetricException.class, () -> new RuleEvaluator("acc", "r1_zero", runs).evaluate(rule(evalRule)));
        assertTrue(e.getMessage().contains("'accuracy' is not a number") && e.getMessage().contains("format_rate"), e.getMessage());

        ConfigException v = assertThrows(ConfigException.class, () -> new RuleEvaluator("acc", "r1_zero", runs)
                .evaluate(rule(evalRule.replace("metric: accuracy", "variant: loss_type=grpo, metric: accuracy"))));
        assertTrue(v.getMessage().contains("variant 'loss_type=grpo'") && v.getMessage().contains("[base]"), v.getMessage());
    }

    @Test
    void badRulesAreRefusedWithTheKeyToFix() {
        ConfigException two = assertThrows(ConfigException.class, () -> rule("""
                checks: [{name: x, left: {metric: a}, right: {metric: b}, ratio_at_least: 1, difference_at_least: 0}]
                """));
        assertTrue(two.getMessage().contains("exactly one comparison"), two.getMessage());
        ConfigException window = assertThrows(ConfigException.class, () -> rule("""
                checks: [{name: x, left: {metric: a, over: last ten}, at_least: 1}]
                """));
        assertTrue(window.getMessage().contains("'first N%', 'last N%'"), window.getMessage());
        ConfigException dir = assertThrows(ConfigException.class, () -> rule("""
                checks: [{name: x, left: {metric: a}, right: {metric: b}, abs_difference_at_most: 1, require: [same_direction]}]
                """));
        assertTrue(dir.getMessage().contains("same_direction needs a one-sided comparison"), dir.getMessage());
    }
}

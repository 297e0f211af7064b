package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.DatasetException;
import io.r1kit.data.testutil.ExprParser;
import io.r1kit.data.testutil.Rational;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CountdownGeneratorTest {

    /** Brute force over all ways to combine all the numbers pairwise; exact fractions, so / is real division. */
    static boolean solvable(List<Rational> pool, Rational target) {
        if (pool.size() == 1) return pool.getFirst().equals(target);
        for (int i = 0; i < pool.size(); i++) {
            for (int j = i + 1; j < pool.size(); j++) {
                Rational a = pool.get(i), b = pool.get(j);
                List<Rational> rest = new ArrayList<>();
                for (int k = 0; k < pool.size(); k++) if (k != i && k != j) rest.add(pool.get(k));
                List<Rational> results = new ArrayList<>(List.of(a.add(b), a.sub(b), b.sub(a), a.mul(b)));
                if (!b.isZero()) results.add(a.div(b));
                if (!a.isZero()) results.add(b.div(a));
                for (Rational c : results) {
                    rest.add(c);
                    if (solvable(rest, target)) return true;
                    rest.removeLast();
                }
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static void check(Map<String, Object> rec) {
        List<Integer> nums = (List<Integer>) rec.get("nums");
        int target = (Integer) rec.get("target");
        String solution = (String) rec.get("solution");
        ExprParser p = ExprParser.parse(solution);
        assertEquals(Rational.of(target), p.value, "solution " + solution + " of " + rec.get("id"));
        List<Long> used = new ArrayList<>(p.numbers);
        List<Long> given = new ArrayList<>(nums.stream().map(Integer::longValue).toList());
        used.sort(null);
        given.sort(null);
        assertEquals(given, used, "each number exactly once in " + solution);
        List<Rational> pool = new ArrayList<>(nums.stream().map(Rational::of).toList());
        assertTrue(solvable(pool, Rational.of(target)), "independent solver finds no solution for " + rec);
        assertEquals(solution, rec.get("answer"));
        assertTrue(((String) rec.get("prompt")).contains(nums.toString()));
        assertTrue(((String) rec.get("prompt")).contains("equals " + target + "."));
    }

    @Test
    void twoHundredDefaultInstancesAreSolvedExactlyAndIndependentlySolvable() {
        CountdownGenerator g = new CountdownGenerator(42, GeneratorParams.empty());
        for (int i = 0; i < 200; i++) {
            Map<String, Object> rec = g.generate(i);
            check(rec);
            @SuppressWarnings("unchecked")
            List<Integer> nums = (List<Integer>) rec.get("nums");
            assertTrue(nums.size() >= 3 && nums.size() <= 4, "default 3..4 numbers");
            int target = (Integer) rec.get("target");
            assertTrue(target >= 1 && target <= 100, "default target range");
            assertTrue(nums.stream().allMatch(n -> n >= 1 && n <= 99));
        }
    }

    @Test
    void harderKnobsFiveAndSixNumbers() {
        CountdownGenerator g = new CountdownGenerator(7, new GeneratorParams(Map.of("min_nums", "5", "max_nums", "6",
                "min_target", "100", "max_target", "999")));
        for (int i = 0; i < 12; i++) {
            Map<String, Object> rec = g.generate(i);
            check(rec);
            int target = (Integer) rec.get("target");
            assertTrue(target >= 100 && target <= 999);
            assertTrue(((List<?>) rec.get("nums")).size() >= 5);
        }
    }

    @Test
    void deterministicBySeedAndIndex() {
        CountdownGenerator a = new CountdownGenerator(3, GeneratorParams.empty());
        CountdownGenerator b = new CountdownGenerator(3, GeneratorParams.empty());
        CountdownGenerator c = new CountdownGenerator(4, GeneratorParams.empty());
        assertEquals(a.generate(17), b.generate(17));
        assertNotEquals(a.generate(17), a.generate(18));
        assertNotEquals(a.generate(17).get("prompt"), c.generate(17).get("prompt"));
        assertEquals(List.of("countdown", "format"), a.generate(0).get("default_rewards"));
    }

    @Test
    void badKnobsAreClearErrors() {
        DatasetException e = assertThrows(DatasetException.class,
                () -> new CountdownGenerator(0, new GeneratorParams(Map.of("max_nums", "9"))));
        assertTrue(e.getMessage().contains("max_nums"), e.getMessage());
        e = assertThrows(DatasetException.class, () -> Generators.create("countdown", 0, new GeneratorParams(Map.of("nums", "3"))));
        assertTrue(e.getMessage().contains("no param 'nums'") && e.getMessage().contains("max_nums"), e.getMessage());
    }
    @Test
    void listedOrderCombinesTheNumbersLeftToRightInTheirListedOrder() {
        CountdownGenerator g = new CountdownGenerator(4, new GeneratorParams(Map.of("order", "listed", "min_nums", "3", "max_nums", "4",
                "max_num", "9", "ops", "+-*", "max_target", "30")));
        for (int i = 0; i < 300; i++) {
            CountdownGenerator.Instance in = g.instance(i);
            // ((a op b) op c) op d: every step's right operand is the next listed number, the left one the running value
            List<Expr.Bin> steps = Expr.steps(in.solution());
            assertEquals(in.nums().size() - 1, steps.size());
            assertEquals((long) in.nums().get(0), steps.get(0).left().value());
            for (int k = 0; k < steps.size(); k++) {
                assertEquals((long) in.nums().get(k + 1), steps.get(k).right().value(), in.solutionText());
                if (k > 0) assertEquals(steps.get(k - 1).value(), steps.get(k).left().value(), in.solutionText());
            }
            assertTrue(in.target() >= 1 && in.target() <= 30);
            assertEquals(Rational.of(in.target()), ExprParser.parse(in.solutionText()).value);
        }
        DatasetException e = assertThrows(DatasetException.class, () -> new CountdownGenerator(1, new GeneratorParams(Map.of("order", "sorted"))));
        assertTrue(e.getMessage().contains("order='sorted'"), e.getMessage());
    }
}

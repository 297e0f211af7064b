package io.r1kit.rewards.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardParams;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.math3.fraction.BigFraction;
import org.junit.jupiter.api.Test;

/** Property tests: generated solvable instances score 1 with their solution, corrupted ones do not. */
class CountdownRewardTest {

    record Instance(long[] nums, BigFraction target, String solution) { }

    /** Random expression tree over {@code k} random numbers; the target is its exact value. */
    static Instance generate(SplittableRandom rng, int k) {
        while (true) {
            List<String> exprs = new ArrayList<>();
            List<BigFraction> vals = new ArrayList<>();
            long[] nums = new long[k];
            for (int i = 0; i < k; i++) {
                nums[i] = 1 + rng.nextInt(99);
                exprs.add(Long.toString(nums[i]));
                vals.add(new BigFraction(nums[i]));
            }
            boolean ok = true;
            while (exprs.size() > 1) {
                int a = rng.nextInt(exprs.size());
                String ea = exprs.remove(a);
                BigFraction va = vals.remove(a);
                int b = rng.nextInt(exprs.size());
                String eb = exprs.remove(b);
                BigFraction vb = vals.remove(b);
                char op = "+-*/".charAt(rng.nextInt(4));
                BigFraction v;
                switch (op) {
                    case '+' -> v = va.add(vb);
                    case '-' -> v = va.subtract(vb);
                    case '*' -> v = va.multiply(vb);
                    default -> {
                        if (vb.equals(BigFraction.ZERO)) { ok = false; v = BigFraction.ZERO; }
                        else v = va.divide(vb);
                    }
                }
                exprs.add("(" + ea + " " + op + " " + eb + ")");
                vals.add(v);
            }
            if (!ok) continue;
            return new Instance(nums, vals.get(0), exprs.get(0));
        }
    }

    private final CountdownReward reward = new CountdownReward(RewardParams.empty("countdown"));

    @Test
    void generatedInstancesScoreOneWithTheirSolution() {
        SplittableRandom rng = new SplittableRandom(42);
        for (int t = 0; t < 500; t++) {
            Instance in = generate(rng, 3 + rng.nextInt(3));
            String completion = "<think>let me try</think>\n<answer>" + in.solution + "</answer>";
            assertEquals(1.0, reward.score(completion, in.nums, in.target), in.solution + " = " + in.target);
        }
    }

    @Test
    void corruptedInstancesAreNotCorrect() {
        SplittableRandom rng = new SplittableRandom(7);
        CountdownReward strict = new CountdownReward(new RewardParams("countdown", Map.of("format_score", 0.0)));
        for (int t = 0; t < 500; t++) {
            Instance in = generate(rng, 3 + rng.nextInt(3));
            List<String> bad = new ArrayList<>();
            // a number replaced by another value
            String first = Long.toString(in.nums[0]);
            bad.add(in.solution.replaceFirst("\\b" + first + "\\b", Long.toString(in.nums[0] + 100)));
            // a number dropped: (a op b) -> a
            bad.add(in.solution.replaceFirst("\\((\\d+) [-+*/] (\\d+)\\)", "$1"));
            // a number used twice
            bad.add("(" + in.solution + ") * " + in.nums[0] + " / " + in.nums[0]);
            // disallowed operator
            bad.add(in.solution.replaceFirst(" \\* | \\+ ", " ** "));
            for (String b : bad) {
                if (b.equals(in.solution)) continue;
                assertFalse(CountdownReward.isCorrect(b, in.nums, in.target), b);
                String completion = "<answer>" + b + "</answer>";
                assertEquals(0.1, reward.score(completion, in.nums, in.target), b);
                assertEquals(0.0, strict.score(completion, in.nums, in.target), b);
            }
            // the right equation against a wrong target
            assertFalse(CountdownReward.isCorrect(in.solution, in.nums, in.target.add(BigFraction.ONE)));
        }
    }

    @Test
    void exactRationalsNotFloats() {
        // 1/3*3 is exactly 1; (1/3+1/3+1/3) too
        assertTrue(CountdownReward.isCorrect("1/3*3", new long[] {1, 3, 3}, BigFraction.ONE));
        assertTrue(CountdownReward.isCorrect("(1/3 + 1/3 + 1/3)", new long[] {1, 1, 1, 3, 3, 3}, BigFraction.ONE));
        // 0.1 + 0.2 style drift cannot happen: 7/10 + 2/10 is 9/10 exactly
        assertTrue(CountdownReward.isCorrect("7/10+2/10", new long[] {7, 10, 2, 10}, new BigFraction(9, 10)));
        // division by zero is wrong, not an exception
        assertFalse(CountdownReward.isCorrect("5/(3-3)", new long[] {5, 3, 3}, BigFraction.ONE));
    }

    @Test
    void formatAndColumns() {
        long[] nums = {2, 3, 4};
        BigFraction t = new BigFraction(24);
        assertEquals(0.0, reward.score("2*3*4 = 24", nums, t), "no <answer> tag");
        assertEquals(1.0, reward.score("<answer>2 * 3 * 4 = 24</answer>", nums, t), "trailing = target allowed");
        assertEquals(0.1, reward.score("<answer>2 * 3 * 4 = 25</answer>", nums, t));
        assertEquals(0.1, reward.score("<answer>2 * 3 * 4 * 1</answer>", nums, t), "extra number");
        assertEquals(0.1, reward.score("<answer>2 * 3 * 4.0</answer>", nums, t), "decimal");
        assertEquals(0.1, reward.score("<answer>2 ^ 3 * 4</answer>", nums, t));
        assertEquals(1.0, reward.score("<answer>1</answer><answer>(4 * 3) * 2</answer>", nums, t), "last answer counts");
        // columns as lists or strings, missing columns -> null
        List<Double> s = reward.score(List.of(
                Completion.of("<answer>2*3*4</answer>", Map.of("nums", List.of(2, 3, 4), "target", 24)),
                Completion.of("<answer>2*3*4</answer>", Map.of("nums", "[2, 3, 4]", "target", "24")),
                Completion.of("<answer>2*3*4</answer>", Map.of("answer", "24"))));
        assertEquals(1.0, s.get(0));
        assertEquals(1.0, s.get(1));
        assertNull(s.get(2));
    }
}

package io.r1kit.data.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1kit.data.DatasetException;
import io.r1kit.data.testutil.ExprParser;
import io.r1kit.data.testutil.Rational;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ArithmeticGeneratorTest {

    @Test
    void answersMatchAnIndependentEvaluatorWithPrecedence() {
        ArithmeticGenerator g = new ArithmeticGenerator(1, new GeneratorParams(Map.of("digits", "3", "terms", "4")));
        boolean sawMixed = false;
        for (int i = 0; i < 500; i++) {
            Map<String, Object> rec = g.generate(i);
            String expr = (String) rec.get("expression");
            ExprParser p = ExprParser.parse(expr);
            assertEquals(Rational.of(Long.parseLong((String) rec.get("answer"))), p.value, expr);
            assertEquals(4, p.numbers.size(), expr);
            assertTrue(p.numbers.stream().allMatch(n -> n >= 1 && n <= 999), expr);
            assertTrue(Long.parseLong((String) rec.get("answer")) >= 0, "no negatives by default: " + expr);
            assertEquals("what is " + expr + "?", rec.get("prompt"));
            sawMixed |= expr.contains("*") && (expr.contains("+") || expr.contains("-"));
        }
        assertTrue(sawMixed, "mixed expressions occur");
    }

    @Test
    void knobsLimitOperatorsAndDigits() {
        ArithmeticGenerator g = new ArithmeticGenerator(2, new GeneratorParams(Map.of("ops", "+", "digits", "5",
                "min_digits", "5")));
        for (int i = 0; i < 100; i++) {
            String expr = (String) g.generate(i).get("expression");
            assertTrue(expr.matches("\\d{5}\\+\\d{5}"), expr);
        }
        ArithmeticGenerator m = new ArithmeticGenerator(2, new GeneratorParams(Map.of("ops", "*", "digits", "3", "mul_digits", "1")));
        for (int i = 0; i < 100; i++) {
            String expr = (String) m.generate(i).get("expression");
            assertTrue(expr.matches("\\d{1,3}\\*[2-9]"), expr);
        }
        assertThrows(DatasetException.class, () -> new ArithmeticGenerator(0, new GeneratorParams(Map.of("ops", "/"))));
    }

    @Test
    void heldOutPartIsDisjointFromTrainAndAboutTheRightSize() {
        GeneratorParams p = GeneratorParams.empty();
        ArithmeticGenerator.Problems all = new ArithmeticGenerator.Problems(p);
        ArithmeticGenerator.Problems train = new ArithmeticGenerator.Problems(GeneratorParams.empty(), "train");
        ArithmeticGenerator.Problems test = new ArithmeticGenerator.Problems(GeneratorParams.empty(), "test");
        SplittableRandom r = new SplittableRandom(9);
        Set<String> trainSet = new HashSet<>(), testSet = new HashSet<>();
        int held = 0;
        for (int i = 0; i < 4000; i++) {
            trainSet.add(Expr.render(train.sample(r), ""));
            testSet.add(Expr.render(test.sample(r), ""));
            if (all.isHeldOut(all.sample(r))) held++;
        }
        for (String t : testSet) assertFalse(trainSet.contains(t), t + " is in both parts");
        assertEquals(0.1, held / 4000.0, 0.02, "holdout=0.1 keeps about a tenth");
    }

    @Test
    void workedSolutionsAreArithmeticallyTrueAndEndAtTheAnswer() {
        ArithmeticGenerator.Problems pr = new ArithmeticGenerator.Problems(new GeneratorParams(Map.of("digits", "3", "terms", "3")));
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 300; i++) {
            Expr e = pr.sample(r);
            WorkedSolution.Trace t = WorkedSolution.trace(e, -1, false, r);
            assertEquals(e.value(), t.result());
            for (String step : WorkedSolution.symbolic(t, Lang.EN).split(", ")) {
                String[] lr = step.split("=");
                assertEquals(ExprParser.parse(lr[0]).value, Rational.of(Long.parseLong(lr[1])), step);
            }
            WorkedSolution.Trace slipped = WorkedSolution.trace(e, r.nextDouble(), false, r);
            assertTrue(slipped.result() != e.value(), "a slip carries through to the answer: " + WorkedSolution.symbolic(slipped, Lang.EN));
            WorkedSolution.Trace caught = WorkedSolution.trace(e, r.nextDouble(), true, r);
            assertEquals(e.value(), caught.result(), "a caught slip is corrected");
            assertTrue(WorkedSolution.symbolic(caught, Lang.EN).contains("wait, let me check:"));
        }
        assertEquals(List.of(300L, 5L), WorkedSolution.placeParts(305));
        assertEquals(List.of(40L, 7L), WorkedSolution.placeParts(47));
        assertEquals(List.of(8L), WorkedSolution.placeParts(8));
    }
}

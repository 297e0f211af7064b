package io.r1kit.rewards.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Extraction order: answer tag, last box, GSM8K ####, "the answer is", math span, last number. */
class AnswerExtractorTest {

    private static String first(String completion) {
        List<String> c = AnswerExtractor.candidates(completion);
        return c.isEmpty() ? null : c.get(0);
    }

    @Test
    void order() {
        assertEquals("7", first("\\boxed{3} #### 5 the answer is 6 <answer>7</answer>"));
        assertEquals("3", first("the answer is 6. So \\boxed{3}"));
        assertEquals("6", first("\\boxed{3} was a step; the final answer is 6."), "a later final answer overrides a box");
        assertEquals("5", first("so 2 + 3 = 5\n#### 5"));
        assertEquals("$6$".replace("$", ""), first("The answer is $6$. I hope it is correct."));
        assertEquals("x^2", first("we get $x^2$"));
        assertEquals("12", first("with $d = 90/n$ we find 12 sequences"), "a number after the last span is later");
        // a short completion is tried whole first (a bare "1 000"); prose fails to parse, then the last number
        assertEquals(List.of("it is 42", "42"), AnswerExtractor.candidates("it is 42"));
        assertEquals(true, MathVerifier.verify("it is 42", "42").correct());
        assertNull(first(""));
    }

    @Test
    void boxes() {
        assertEquals("\\frac{1}{2}", AnswerExtractor.lastBoxed("\\boxed{1} then \\boxed{\\frac{1}{2}}"));
        assertEquals("1, 2", AnswerExtractor.lastBoxed("$\\boxed{1}$ and $\\boxed{2}$"));
        assertEquals("2", AnswerExtractor.lastBoxed("\\boxed{1}. Then we check more things. \\boxed{2}"));
        assertEquals("9", AnswerExtractor.lastBoxed("\\fbox{9}"));
        assertEquals("5", AnswerExtractor.lastBoxed("\\boxed 5 ."));
        assertEquals("{a}", AnswerExtractor.lastBoxed("\\boxed{{a}}"));
        assertEquals("1", AnswerExtractor.lastBoxed("\\boxed{1"), "unclosed: the rest");
        assertNull(AnswerExtractor.lastBoxed("no box"));
    }

    @Test
    void goldForms() {
        assertEquals("18", AnswerExtractor.goldCandidates("Janet sells 9 eggs.\n#### 18").get(0));
        assertEquals("\\frac{1}{2}", AnswerExtractor.goldCandidates("so it is \\boxed{\\frac{1}{2}}.").get(0));
        assertEquals("$x^2$", AnswerExtractor.goldCandidates("$x^2$").get(0));
    }
}

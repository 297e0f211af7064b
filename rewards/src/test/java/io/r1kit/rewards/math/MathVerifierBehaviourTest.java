package io.r1kit.rewards.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * What a user of the accuracy reward relies on, one property per test: the relative tolerance and
 * its edge, rounded decimals, units and trailing punctuation around a number, thousands separators,
 * "the answer is" phrasing, and equations equal up to a factor.
 */
class MathVerifierBehaviourTest {

    private static boolean eq(String gold, String pred) {
        return MathVerifier.equivalentAnswers(gold, pred);
    }

    /** Irrational values compare within REL_TOL = 1e-6 relative: inside it equal, ten times outside it not. */
    @Test
    void relativeToleranceOfIrrationalValues() {
        assertTrue(eq("\\sqrt{2}", "\\sqrt{2}\\cdot(1+10^{-7})"), "1e-7 relative is inside");
        assertFalse(eq("\\sqrt{2}", "\\sqrt{2}\\cdot(1+10^{-5})"), "1e-5 relative is outside");
        assertTrue(eq("1000\\pi", "1000\\pi+10^{-4}"), "the tolerance scales with the value");
        assertFalse(eq("1000\\pi", "1000\\pi+10^{-2}"));
        assertFalse(eq("\\pi", "-\\pi"), "the sign counts");
    }

    /** An exact rational and a decimal: equal when the decimal has ≥ 3 places and the value rounds (or truncates) to it. */
    @Test
    void roundedDecimalsMatchExactValuesWithEnoughPlaces() {
        assertTrue(eq("\\frac{1}{3}", "0.333"));
        assertTrue(eq("\\frac{2}{3}", "0.667"), "rounded half up");
        assertTrue(eq("\\frac{2}{3}", "0.666"), "truncated");
        assertFalse(eq("\\frac{2}{3}", "0.67"), "two places are too few");
        assertFalse(eq("\\frac{1}{3}", "0.334"));
        assertTrue(eq("-\\frac{1}{3}", "-0.333"), "negative decimals too");
        assertTrue(eq("0.333", "\\frac{1}{3}"), "either side may be the decimal");
    }

    /** Unit words after a number are dropped; LaTeX commands and function names are not units. */
    @Test
    void unitsAfterANumberAreIgnored() {
        assertTrue(eq("5", "5 cm"));
        assertTrue(eq("5", "5cm"), "a known unit glued to the number");
        assertTrue(eq("12", "12 dollars"), "a long word after a space");
        assertTrue(eq("20", "20 \\text{ meters}"));
        assertTrue(eq("9", "9 m^2"), "a unit with a power");
        assertTrue(eq("9", "9 square feet"));
        assertFalse(eq("2", "2\\pi"), "\\pi is a factor, not a unit");
        assertFalse(eq("3", "3x"), "a one-letter variable is not a unit");
    }

    /** Sentence punctuation after an answer is not part of it, but "!" after a digit is a factorial. */
    @Test
    void trailingPunctuation() {
        assertTrue(eq("7", "7."));
        assertTrue(eq("7", "7;"));
        assertTrue(eq("7", "7 ?"));
        assertTrue(eq("120", "5!"), "5! is a factorial");
        assertFalse(eq("5", "5!"));
    }

    /** Thousands separators are read as one number; a bracketed pair is a pair. */
    @Test
    void thousandsSeparators() {
        assertTrue(eq("7425000", "7,425,000"));
        assertTrue(eq("1234", "1,234"));
        assertFalse(eq("12102", "(12,102)"), "a pair, not twelve thousand");
        assertTrue(eq("(12, 102)", "(12,102)"));
    }

    /** "The answer is …" takes the value at the end of that sentence, after the last " is ". */
    @Test
    void theAnswerIsPhrasing() {
        assertEquals("34", AnswerExtractor.answerIs("So the answer is: the largest n is 34."));
        assertEquals("x^2", AnswerExtractor.answerIs("The final answer is $x^2$. Done"));
        assertEquals("12", AnswerExtractor.answerIs("**Final Answer:** 12 apples in total, since each has 3"));
        assertEquals(null, AnswerExtractor.answerIs("no phrase here"));
        assertTrue(MathVerifier.verify("We add them. The answer is 6. Then we double check 7.", "6").correct());
    }

    /** Equations are equal up to a non-zero factor, inequalities only up to a positive one. */
    @Test
    void equationsUpToAFactor() {
        assertTrue(eq("x+y=2", "2x+2y=4"));
        assertTrue(eq("x+y=2", "-x-y=-2"), "a negative factor keeps an equation");
        assertFalse(eq("x+y=2", "x+y=3"));
        assertFalse(eq("x+y=2", "x+2y=2"));
        assertTrue(eq("x\\ge 5", "5\\le x"));
        assertFalse(eq("x\\ge 5", "x\\le 5"), "a negative factor flips an inequality");
    }

    /** Symbolic answers compare at random points: an expansion equals its product, a changed constant does not. */
    @Test
    void symbolicExpressions() {
        assertTrue(eq("(x+1)^2", "x^2+2x+1"));
        assertFalse(eq("(x+1)^2", "x^2+2x+2"));
        assertTrue(eq("\\frac{x^2-1}{x-1}", "x+1"), "equal wherever both are defined");
        assertFalse(eq("x", "y"));
    }

    /** Exact arithmetic: powers with negative and half-integer exponents, real odd roots of negatives, binomials. */
    @Test
    void exactValuesOfPowersRootsAndBinomials() {
        assertTrue(eq("\\frac{1}{8}", "2^{-3}"));
        assertTrue(eq("\\frac{1}{4}", "\\left(\\frac{1}{2}\\right)^{2}"));
        assertTrue(eq("3", "9^{1/2}"));
        assertTrue(eq("-2", "\\sqrt[3]{-8}"), "the real cube root of a negative number");
        assertTrue(eq("-2", "(-8)^{1/3}"));
        assertFalse(eq("2", "\\sqrt[3]{-8}"));
        assertTrue(eq("10", "\\binom{5}{2}"));
        assertTrue(eq("0", "\\binom{2}{5}"), "choosing more than there are: 0 ways");
        assertFalse(eq("\\frac{1}{8}", "2^{3}"));
    }

    /** Functions are evaluated: sin, cos, tan of exact angles, and a wrong function is wrong. */
    @Test
    void trigonometricValues() {
        assertTrue(eq("\\frac{1}{2}", "\\sin(\\pi/6)"));
        assertTrue(eq("\\frac{1}{2}", "\\cos\\frac{\\pi}{3}"));
        assertTrue(eq("1", "\\tan(\\pi/4)"));
        assertFalse(eq("\\frac{1}{2}", "\\cos(\\pi/6)"));
    }

    /** "x = 5" answers the value 5; a one-element set is its element; intervals keep their open/closed ends. */
    @Test
    void assignmentsSetsAndIntervals() {
        assertTrue(eq("5", "x = 5"));
        assertTrue(eq("5", "\\{5\\}"));
        assertTrue(eq("(1, 2)", "(p, q) = (1, 2)"));
        assertTrue(eq("[1, 3)", "[1,3)"));
        assertFalse(eq("[1, 3)", "[1, 3]"), "a closed end is not an open one");
        assertTrue(eq("\\{1, 2\\}", "\\{2, 1\\}"), "sets are unordered");
        assertFalse(eq("(1, 2)", "(2, 1)"), "pairs are ordered");
    }

    /** A matrix product written out is compared by its value. */
    @Test
    void matrixProducts() {
        String product = "\\begin{pmatrix}1 & 2\\\\ 3 & 4\\end{pmatrix}\\begin{pmatrix}1\\\\ 1\\end{pmatrix}";
        assertTrue(eq("\\begin{pmatrix}3\\\\ 7\\end{pmatrix}", product));
        assertFalse(eq("\\begin{pmatrix}3\\\\ 6\\end{pmatrix}", product));
        assertTrue(eq("\\begin{pmatrix}2\\\\ 4\\end{pmatrix}", "2\\begin{pmatrix}1\\\\ 2\\end{pmatrix}"), "a scalar factor");
    }

    /** A multiple-choice letter or a word is compared as text, case-insensitively against a product of letters. */
    @Test
    void lettersAndWords() {
        assertTrue(MathVerifier.verify("The answer is (C).", "C").correct());
        assertFalse(MathVerifier.verify("The answer is (B).", "C").correct());
        assertTrue(MathVerifier.verify("So the winner is \\boxed{Evelyn}", "Evelyn").correct());
    }
}

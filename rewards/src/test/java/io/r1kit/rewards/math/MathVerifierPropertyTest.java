package io.r1kit.rewards.math;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.commons.math3.fraction.BigFraction;
import org.junit.jupiter.api.Test;

/** Random values written in different but equal forms are equal; nearby different values are not. */
class MathVerifierPropertyTest {

    /** Ways a model may write the rational {@code v}. */
    static List<String> renderings(BigFraction v) {
        List<String> out = new ArrayList<>();
        BigInteger p = v.getNumerator(), q = v.getDenominator();
        String sign = p.signum() < 0 ? "-" : "";
        BigInteger ap = p.abs();
        out.add(sign + "\\frac{" + ap + "}{" + q + "}");
        out.add(sign + "\\dfrac{" + ap.multiply(BigInteger.valueOf(3)) + "}{" + q.multiply(BigInteger.valueOf(3)) + "}");
        out.add(p + "/" + q);
        out.add("\\boxed{" + sign + "\\frac{" + ap + "}{" + q + "}}");
        out.add("The answer is $" + sign + "\\tfrac{" + ap + "}{" + q + "}$.");
        try {
            BigDecimal d = new BigDecimal(p).divide(new BigDecimal(q)); // exact or throws
            out.add(d.toPlainString());
            out.add("<answer>" + d.toPlainString() + "</answer>");
            if (q.equals(BigInteger.ONE) && ap.compareTo(BigInteger.valueOf(1000)) >= 0) {
                out.add(sign + String.format("%,d", ap)); // thousands separators
                out.add("\\$" + sign + String.format("%,d", ap));
                out.add("#### " + p);
            }
        } catch (ArithmeticException nonTerminating) {
            // no exact decimal form
        }
        if (ap.compareTo(q) > 0 && !q.equals(BigInteger.ONE)) {
            BigInteger[] qr = ap.divideAndRemainder(q);
            out.add(sign + qr[0] + "\\frac{" + qr[1] + "}{" + q + "}"); // mixed number
        }
        return out;
    }

    @Test
    void equalFormsAreEqualAndNeighboursAreNot() {
        SplittableRandom rng = new SplittableRandom(2024);
        for (int t = 0; t < 300; t++) {
            long num = rng.nextLong(-200_000, 200_000);
            long den = rng.nextInt(4) == 0 ? 1 : List.of(2L, 4L, 5L, 8L, 3L, 7L, 9L, 11L, 20L).get(rng.nextInt(9));
            BigFraction v = new BigFraction(num, den);
            String gold = rng.nextBoolean() ? "\\frac{" + num + "}{" + den + "}" : (den == 1 ? Long.toString(num) : num + "/" + den);
            for (String r : renderings(v)) {
                assertTrue(MathVerifier.verify(r, gold).correct(), "gold " + gold + " vs " + r);
            }
            // a neighbour farther than the rounding rule reaches (a decimal with >= 3 places may round to gold)
            BigFraction near = v.add(new BigFraction(1, den * 10));
            for (String r : renderings(near)) {
                assertFalse(MathVerifier.verify(r, gold).correct(), "gold " + gold + " vs neighbour " + r);
            }
        }
    }

    @Test
    void symbolicIdentitiesHoldAndPerturbationsFail() {
        String[][] same = {
                {"(a+b)^2", "a^2 + 2ab + b^2"}, {"\\sin^2 x + \\cos^2 x", "1"}, {"\\frac{x^2-1}{x-1}", "x+1"},
                {"2\\sin x \\cos x", "\\sin(2x)"}, {"\\sqrt{8}", "2\\sqrt{2}"}, {"e^{\\ln 5}", "5"}, {"\\log_3 81", "4"},
                {"\\frac{1}{\\sqrt{3}}", "\\frac{\\sqrt{3}}{3}"}, {"(x-1)(x+1)", "x^2-1"}, {"\\pi/4", "\\arctan 1"}};
        for (String[] s : same) {
            assertTrue(MathVerifier.equivalentAnswers(s[0], s[1]), s[0] + " = " + s[1]);
            assertFalse(MathVerifier.equivalentAnswers(s[0], s[1] + "+ 0.001"), s[0] + " != " + s[1] + " + 0.001");
        }
    }

    @Test
    void randomAndHostileTextNeverThrowsAndStaysFast() {
        SplittableRandom rng = new SplittableRandom(99);
        String alphabet = "0123456789+-*/^_{}()[]\\$,.=<> abcxyz\\frac\\sqrt\\boxed\\left\\right&|!%\n";
        long t0 = System.nanoTime();
        for (int t = 0; t < 500; t++) {
            StringBuilder sb = new StringBuilder();
            int len = rng.nextInt(200);
            for (int i = 0; i < len; i++) sb.append(alphabet.charAt(rng.nextInt(alphabet.length())));
            MathVerifier.verify(sb.toString(), "42");
            MathVerifier.verify("\\boxed{" + sb + "}", sb.toString());
        }
        // runaway completions and huge exact values
        String longText = "the answer is 7 ".repeat(5000) + "\\boxed{" + "(".repeat(500) + "1" + ")".repeat(500) + "}";
        MathVerifier.verify(longText, "1");
        assertTrue(MathVerifier.verify("\\boxed{(10^{4096})^{4096}}", "10^{4096 * 4096}").parsed());
        assertFalse(MathVerifier.verify("\\boxed{2^{2^{2^{100}}}}", "5").correct());
        assertTrue(MathVerifier.verify("\\boxed{1000!/999!}", "1000").parsed());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds < 15, "took " + seconds + " s");
    }
}

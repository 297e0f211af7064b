package io.r1kit.data.testutil;

import java.util.ArrayList;
import java.util.List;

/**
 * A small recursive-descent evaluator for {@code + - * / ( )} over integers with exact fractions,
 * written for the tests independently of the generators. Records every number it reads.
 */
public final class ExprParser {
    private final String s;
    private int i;
    public final List<Long> numbers = new ArrayList<>();

    private ExprParser(String s) { this.s = s; }

    public static ExprParser parse(String text) {
        ExprParser p = new ExprParser(text);
        p.value = p.expr();
        p.skip();
        if (p.i != text.length()) throw new IllegalArgumentException("trailing text at " + p.i + " in " + text);
        return p;
    }

    public Rational value;

    private void skip() { while (i < s.length() && s.charAt(i) == ' ') i++; }

    private Rational expr() {
        Rational v = term();
        while (true) {
            skip();
            if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                char op = s.charAt(i++);
                Rational r = term();
                v = op == '+' ? v.add(r) : v.sub(r);
            } else return v;
        }
    }

    private Rational term() {
        Rational v = factor();
        while (true) {
            skip();
            if (i < s.length() && (s.charAt(i) == '*' || s.charAt(i) == '/')) {
                char op = s.charAt(i++);
                Rational r = factor();
                v = op == '*' ? v.mul(r) : v.div(r);
            } else return v;
        }
    }

    private Rational factor() {
        skip();
        if (i < s.length() && s.charAt(i) == '(') {
            i++;
            Rational v = expr();
            skip();
            if (i >= s.length() || s.charAt(i) != ')') throw new IllegalArgumentException("missing ) in " + s);
            i++;
            return v;
        }
        int start = i;
        while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
        if (start == i) throw new IllegalArgumentException("expected a number at " + start + " in " + s);
        long n = Long.parseLong(s.substring(start, i));
        numbers.add(n);
        return Rational.of(n);
    }
}

package io.r1kit.data.testutil;

import java.math.BigInteger;

/** Exact fractions for the independent checkers (no shared code with the generators). */
public record Rational(BigInteger num, BigInteger den) {
    public Rational {
        if (den.signum() == 0) throw new ArithmeticException("division by zero");
        if (den.signum() < 0) {
            num = num.negate();
            den = den.negate();
        }
        BigInteger g = num.gcd(den);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            num = num.divide(g);
            den = den.divide(g);
        }
    }

    public static Rational of(long n) { return new Rational(BigInteger.valueOf(n), BigInteger.ONE); }
    public Rational add(Rational o) { return new Rational(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den)); }
    public Rational sub(Rational o) { return new Rational(num.multiply(o.den).subtract(o.num.multiply(den)), den.multiply(o.den)); }
    public Rational mul(Rational o) { return new Rational(num.multiply(o.num), den.multiply(o.den)); }
    public Rational div(Rational o) { return new Rational(num.multiply(o.den), den.multiply(o.num)); }
    public boolean isZero() { return num.signum() == 0; }
}

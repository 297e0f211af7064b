package io.r1kit.rewards.math;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.math3.fraction.BigFraction;

/**
 * A scalar math expression. Two evaluations: {@link #exact()} gives an exact rational when the
 * expression is built from rationals with + - * / and integer powers (and perfect-square roots),
 * {@link #eval(Map)} gives a double for anything (irrationals, functions, free variables).
 */
public sealed interface Expr {

    /** Exact rational value, or null when the expression is not a rational constant. */
    BigFraction exact();

    /** Numeric value with the given variable assignment (NaN when undefined). */
    double eval(Map<String, Double> env);

    /** Free variables. */
    default Set<String> variables() {
        Set<String> out = new TreeSet<>();
        collectVariables(out);
        return out;
    }

    void collectVariables(Set<String> out);

    /** Exponents larger than this are not expanded exactly (BigFraction powers blow up). */
    int MAX_EXACT_EXPONENT = 4096;
    /** Exact powers whose result would exceed this many bits fall back to doubles. */
    long MAX_EXACT_BITS = 1 << 16;

    /** A number literal; {@code decimals} is the count of digits after the point (0 for integers). */
    record Num(BigFraction value, int decimals) implements Expr {
        static Num parse(String text) {
            BigDecimal d = new BigDecimal(text.startsWith(".") ? "0" + text : text);
            int scale = Math.max(0, d.scale());
            BigInteger unscaled = d.movePointRight(scale).toBigIntegerExact();
            int decimals = text.contains(".") ? text.length() - text.indexOf('.') - 1 : 0;
            return new Num(new BigFraction(unscaled, BigInteger.TEN.pow(scale)), decimals);
        }

        static Num of(long v) {
            return new Num(new BigFraction(v), 0);
        }

        public BigFraction exact() { return value; }
        public double eval(Map<String, Double> env) { return value.doubleValue(); }
        public void collectVariables(Set<String> out) { }
    }

    record Var(String name) implements Expr {
        public BigFraction exact() { return null; }
        public double eval(Map<String, Double> env) {
            Double v = env.get(name);
            return v == null ? Double.NaN : v;
        }
        public void collectVariables(Set<String> out) { out.add(name); }
    }

    /** pi, e, infinity. */
    record Const(String name, double value) implements Expr {
        public BigFraction exact() { return null; }
        public double eval(Map<String, Double> env) { return value; }
        public void collectVariables(Set<String> out) { }
    }

    record Neg(Expr arg) implements Expr {
        public BigFraction exact() {
            BigFraction a = arg.exact();
            return a == null ? null : a.negate();
        }
        public double eval(Map<String, Double> env) { return -arg.eval(env); }
        public void collectVariables(Set<String> out) { arg.collectVariables(out); }
    }

    record Add(Expr left, Expr right) implements Expr {
        public BigFraction exact() {
            BigFraction a = left.exact(), b = right.exact();
            return a == null || b == null ? null : a.add(b);
        }
        public double eval(Map<String, Double> env) { return left.eval(env) + right.eval(env); }
        public void collectVariables(Set<String> out) { left.collectVariables(out); right.collectVariables(out); }
    }

    record Sub(Expr left, Expr right) implements Expr {
        public BigFraction exact() {
            BigFraction a = left.exact(), b = right.exact();
            return a == null || b == null ? null : a.subtract(b);
        }
        public double eval(Map<String, Double> env) { return left.eval(env) - right.eval(env); }
        public void collectVariables(Set<String> out) { left.collectVariables(out); right.collectVariables(out); }
    }

    record Mul(Expr left, Expr right) implements Expr {
        public BigFraction exact() {
            BigFraction a = left.exact(), b = right.exact();
            return a == null || b == null ? null : a.multiply(b);
        }
        public double eval(Map<String, Double> env) { return left.eval(env) * right.eval(env); }
        public void collectVariables(Set<String> out) { left.collectVariables(out); right.collectVariables(out); }
    }

    record Div(Expr left, Expr right) implements Expr {
        public BigFraction exact() {
            BigFraction a = left.exact(), b = right.exact();
            if (a == null || b == null || b.equals(BigFraction.ZERO)) return null;
            return a.divide(b);
        }
        public double eval(Map<String, Double> env) { return left.eval(env) / right.eval(env); }
        public void collectVariables(Set<String> out) { left.collectVariables(out); right.collectVariables(out); }
    }

    record Pow(Expr base, Expr exponent) implements Expr {
        public BigFraction exact() {
            BigFraction b = base.exact(), e = exponent.exact();
            if (b == null || e == null) return null;
            if (e.getDenominator().equals(BigInteger.ONE)) {
                BigInteger n = e.getNumerator();
                if (n.abs().compareTo(BigInteger.valueOf(MAX_EXACT_EXPONENT)) > 0) return null;
                int k = n.intValue();
                if (k < 0 && b.equals(BigFraction.ZERO)) return null;
                // keep exact results small: (10^4096)^4096 has 16M digits
                long bits = (long) Math.max(b.getNumerator().bitLength(), b.getDenominator().bitLength()) * Math.abs(k);
                if (bits > MAX_EXACT_BITS) return null;
                BigFraction p = b.pow(Math.abs(k));
                return k < 0 ? BigFraction.ONE.divide(p) : p;
            }
            if (e.getDenominator().equals(BigInteger.TWO) && e.getNumerator().abs().compareTo(BigInteger.valueOf(MAX_EXACT_EXPONENT)) <= 0) {
                BigFraction r = Sqrt.exactSqrt(b);
                if (r == null) return null;
                return new Pow(new Num(r, 0), new Num(new BigFraction(e.getNumerator()), 0)).exact();
            }
            return null;
        }
        public double eval(Map<String, Double> env) {
            double b = base.eval(env), e = exponent.eval(env);
            // Real odd roots of negative numbers: (-8)^(1/3) = -2, as a person reads it.
            if (b < 0 && e != Math.rint(e)) {
                BigFraction ef = exponent.exact();
                if (ef != null && ef.getDenominator().testBit(0)) {
                    double mag = Math.pow(-b, e);
                    return ef.getNumerator().testBit(0) ? -mag : mag;
                }
            }
            return Math.pow(b, e);
        }
        public void collectVariables(Set<String> out) { base.collectVariables(out); exponent.collectVariables(out); }
    }

    /** n-th root (n = 2 for \sqrt). */
    record Sqrt(Expr arg, Expr index) implements Expr {
        static BigFraction exactSqrt(BigFraction v) {
            if (v.compareTo(BigFraction.ZERO) < 0) return null;
            BigInteger n = v.getNumerator(), d = v.getDenominator();
            BigInteger rn = n.sqrt(), rd = d.sqrt();
            if (!rn.multiply(rn).equals(n) || !rd.multiply(rd).equals(d)) return null;
            return new BigFraction(rn, rd);
        }
        public BigFraction exact() {
            BigFraction a = arg.exact();
            if (a == null) return null;
            BigFraction idx = index.exact();
            if (idx == null || !idx.equals(new BigFraction(2))) {
                if (idx == null || !idx.getDenominator().equals(BigInteger.ONE)) return null;
                int k = idx.getNumerator().intValue();
                if (k < 1 || k > 64) return null;
                boolean neg = a.compareTo(BigFraction.ZERO) < 0;
                if (neg && k % 2 == 0) return null;
                BigFraction abs = a.abs();
                BigInteger rn = nthRoot(abs.getNumerator(), k), rd = nthRoot(abs.getDenominator(), k);
                if (rn == null || rd == null) return null;
                BigFraction r = new BigFraction(rn, rd);
                return neg ? r.negate() : r;
            }
            return exactSqrt(a);
        }
        private static BigInteger nthRoot(BigInteger v, int k) {
            if (v.signum() == 0) return v;
            double approx = Math.round(Math.pow(v.doubleValue(), 1.0 / k));
            BigInteger r = BigInteger.valueOf((long) approx);
            for (BigInteger c : List.of(r, r.add(BigInteger.ONE), r.subtract(BigInteger.ONE))) {
                if (c.signum() > 0 && c.pow(k).equals(v)) return c;
            }
            return null;
        }
        public double eval(Map<String, Double> env) {
            double a = arg.eval(env), k = index.eval(env);
            if (k == 2) return Math.sqrt(a);
            if (a < 0 && k == Math.rint(k) && ((long) k) % 2 == 1) return -Math.pow(-a, 1.0 / k);
            return Math.pow(a, 1.0 / k);
        }
        public void collectVariables(Set<String> out) { arg.collectVariables(out); index.collectVariables(out); }
    }

    /** A named real function: sin, cos, ln, abs, factorial, ... */
    record Func(String name, Expr arg, Expr base) implements Expr {
        public BigFraction exact() {
            BigFraction a = arg.exact();
            if (a == null) return null;
            return switch (name) {
                case "abs" -> a.abs();
                case "factorial" -> {
                    if (!a.getDenominator().equals(BigInteger.ONE) || a.getNumerator().signum() < 0
                            || a.getNumerator().compareTo(BigInteger.valueOf(500)) > 0) yield null;
                    BigInteger f = BigInteger.ONE;
                    for (int i = 2; i <= a.getNumerator().intValue(); i++) f = f.multiply(BigInteger.valueOf(i));
                    yield new BigFraction(f);
                }
                default -> null;
            };
        }
        public double eval(Map<String, Double> env) {
            double x = arg.eval(env);
            return switch (name) {
                case "sin" -> Math.sin(x);
                case "cos" -> Math.cos(x);
                case "tan" -> Math.tan(x);
                case "cot" -> 1 / Math.tan(x);
                case "sec" -> 1 / Math.cos(x);
                case "csc" -> 1 / Math.sin(x);
                case "arcsin" -> Math.asin(x);
                case "arccos" -> Math.acos(x);
                case "arctan" -> Math.atan(x);
                case "sinh" -> Math.sinh(x);
                case "cosh" -> Math.cosh(x);
                case "tanh" -> Math.tanh(x);
                case "ln" -> Math.log(x);
                case "log" -> base == null ? Math.log10(x) : Math.log(x) / Math.log(base.eval(env));
                case "exp" -> Math.exp(x);
                case "abs" -> Math.abs(x);
                case "factorial" -> x == Math.rint(x) && x >= 0 && x <= 170 ? factorial((int) x) : Double.NaN;
                default -> Double.NaN;
            };
        }
        private static double factorial(int n) {
            double f = 1;
            for (int i = 2; i <= n; i++) f *= i;
            return f;
        }
        public void collectVariables(Set<String> out) {
            arg.collectVariables(out);
            if (base != null) base.collectVariables(out);
        }
    }

    /** \binom{n}{k}. */
    record Binom(Expr n, Expr k) implements Expr {
        public BigFraction exact() {
            BigFraction a = n.exact(), b = k.exact();
            if (a == null || b == null || !a.getDenominator().equals(BigInteger.ONE) || !b.getDenominator().equals(BigInteger.ONE)) return null;
            int nn = a.getNumerator().intValue(), kk = b.getNumerator().intValue();
            if (nn < 0 || kk < 0 || kk > nn || nn > 2000) return kk > nn && nn >= 0 ? BigFraction.ZERO : null;
            BigInteger r = BigInteger.ONE;
            for (int i = 1; i <= kk; i++) r = r.multiply(BigInteger.valueOf(nn - kk + i)).divide(BigInteger.valueOf(i));
            return new BigFraction(r);
        }
        public double eval(Map<String, Double> env) {
            BigFraction e = exact();
            return e == null ? Double.NaN : e.doubleValue();
        }
        public void collectVariables(Set<String> out) { n.collectVariables(out); k.collectVariables(out); }
    }
}

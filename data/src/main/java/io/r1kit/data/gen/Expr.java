package io.r1kit.data.gen;

import java.util.ArrayList;
import java.util.List;

/**
 * An integer arithmetic expression tree over {@code + - * /} with its value, as the generators build
 * them. Division only appears where it is exact, so every value is an integer.
 */
public sealed interface Expr permits Expr.Num, Expr.Bin {
    long value();

    /** 2 for * and /, 1 for + and -, 3 for a number. */
    int precedence();

    record Num(long value) implements Expr {
        @Override
        public int precedence() { return 3; }

        @Override
        public String toString() { return Long.toString(value); }
    }

    record Bin(char op, Expr left, Expr right, long value) implements Expr {
        @Override
        public int precedence() { return op == '+' || op == '-' ? 1 : 2; }

        @Override
        public String toString() { return render(this, ""); }
    }

    static Bin of(char op, Expr l, Expr r) {
        long a = l.value(), b = r.value();
        long v = switch (op) {
            case '+' -> Math.addExact(a, b);
            case '-' -> Math.subtractExact(a, b);
            case '*' -> Math.multiplyExact(a, b);
            case '/' -> {
                if (b == 0 || a % b != 0) throw new ArithmeticException(a + "/" + b + " is not exact");
                yield a / b;
            }
            default -> throw new IllegalArgumentException("operator " + op);
        };
        return new Bin(op, l, r, v);
    }

    /**
     * The expression with the fewest parentheses that keep its meaning: a child is parenthesized when it
     * binds looser than its parent, or equally loose on the right of {@code -} or {@code /}.
     * {@code space} goes around operators ("" gives {@code 3+4*5}, " " gives {@code 3 + 4 * 5}).
     */
    static String render(Expr e, String space) {
        if (e instanceof Num n) return Long.toString(n.value());
        Bin b = (Bin) e;
        String l = render(b.left(), space), r = render(b.right(), space);
        if (b.left().precedence() < b.precedence()) l = "(" + l + ")";
        boolean rightParens = b.right().precedence() < b.precedence()
                || (b.right().precedence() == b.precedence() && (b.op() == '-' || b.op() == '/'));
        if (rightParens) r = "(" + r + ")";
        return l + space + b.op() + space + r;
    }

    /** The operations in evaluation order (post-order), each with its operand values. */
    static List<Bin> steps(Expr e) {
        List<Bin> out = new ArrayList<>();
        collect(e, out);
        return out;
    }

    private static void collect(Expr e, List<Bin> out) {
        if (e instanceof Bin b) {
            collect(b.left(), out);
            collect(b.right(), out);
            out.add(b);
        }
    }

    /** The numbers at the leaves, left to right. */
    static List<Long> leaves(Expr e) {
        List<Long> out = new ArrayList<>();
        leaves(e, out);
        return out;
    }

    private static void leaves(Expr e, List<Long> out) {
        if (e instanceof Num n) out.add(n.value());
        else if (e instanceof Bin b) {
            leaves(b.left(), out);
            leaves(b.right(), out);
        }
    }
}

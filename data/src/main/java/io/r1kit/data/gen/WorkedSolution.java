package io.r1kit.data.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Chains of thought for arithmetic, the way a person does it in their head: each operation of the
 * expression is broken into easy steps by place value ({@code 47+38: 47+30=77, 77+8=85};
 * {@code 47*3: 40*3=120, 7*3=21, 120+21=141}), so thinking is genuinely easier for a small model than
 * answering in one go.
 *
 * <p>A trace can carry a slip (one step's result off, everything after it built on the wrong value, so
 * the final answer is wrong) and a caught slip (the next sentence says "wait, let me check" and redoes
 * the step right).
 */
public final class WorkedSolution {
    /** One small step {@code a op b = shown}; {@code correct} differs from {@code shown} after a slip. */
    public record Step(long a, char op, long b, long shown, long correct, boolean recheck) {}

    public record Trace(List<Step> steps, long result, boolean slipped) {}

    private WorkedSolution() {}

    /**
     * Runs the expression's operations in order. {@code slip} in [0, 1): which of the small steps (as a
     * fraction of their count) gets a wrong result, or negative for none. With {@code catchSlip} the slip
     * is noticed and corrected at once, so the result is right.
     */
    public static Trace trace(Expr e, double slip, boolean catchSlip, SplittableRandom r) {
        // First pass without a slip gives the step count, so the slip can land on any step uniformly.
        List<Step> clean = new ArrayList<>();
        long value = eval(e, clean, -1, false, r);
        if (slip < 0) return new Trace(clean, value, false);
        int at = (int) (slip * clean.size());
        List<Step> steps = new ArrayList<>();
        long shown = eval(e, steps, at, catchSlip, r);
        return new Trace(steps, shown, !catchSlip);
    }

    /** Evaluates with the (possibly wrong) values shown so far; returns the value this node shows. */
    private static long eval(Expr e, List<Step> out, int slipAt, boolean catchSlip, SplittableRandom r) {
        if (e instanceof Expr.Num n) return n.value();
        Expr.Bin b = (Expr.Bin) e;
        long a = eval(b.left(), out, slipAt, catchSlip, r);
        long c = eval(b.right(), out, slipAt, catchSlip, r);
        return expand(a, b.op(), c, out, slipAt, catchSlip, r);
    }

    /** One operation as small steps. */
    private static long expand(long a, char op, long b, List<Step> out, int slipAt, boolean catchSlip, SplittableRandom r) {
        switch (op) {
            case '+', '-' -> {
                List<Long> parts = placeParts(b);
                long x = a;
                for (long part : parts) x = step(x, op, part, out, slipAt, catchSlip, r);
                return x;
            }
            case '*' -> {
                // 47*3: split the multi-digit side into place values (40*3, 7*3) and add the products;
                // 47*38: split the right side (47*30, 47*8).
                boolean splitLeft = Math.abs(b) < 10 && Math.abs(a) >= 10;
                List<Long> parts = splitLeft ? placeParts(a) : placeParts(b);
                if (parts.size() == 1) return step(a, '*', b, out, slipAt, catchSlip, r);
                List<Long> products = new ArrayList<>();
                for (long part : parts) {
                    products.add(splitLeft ? step(part, '*', b, out, slipAt, catchSlip, r)
                            : step(a, '*', part, out, slipAt, catchSlip, r));
                }
                long x = products.getFirst();
                for (int i = 1; i < products.size(); i++) x = step(x, '+', products.get(i), out, slipAt, catchSlip, r);
                return x;
            }
            default -> throw new IllegalArgumentException("operator " + op);
        }
    }

    private static long step(long a, char op, long b, List<Step> out, int slipAt, boolean catchSlip, SplittableRandom r) {
        long correct = switch (op) {
            case '+' -> a + b;
            case '-' -> a - b;
            default -> a * b;
        };
        if (out.size() == slipAt) {
            long wrong = slipOf(correct, r);
            out.add(new Step(a, op, b, wrong, correct, catchSlip));
            return catchSlip ? correct : wrong;
        }
        out.add(new Step(a, op, b, correct, correct, false));
        return correct;
    }

    /** 47 -> [40, 7]; 305 -> [300, 5]; 8 -> [8]; 0 -> [0]. Negative numbers stay whole. */
    static List<Long> placeParts(long v) {
        List<Long> parts = new ArrayList<>();
        if (v < 10) {
            parts.add(v);
            return parts;
        }
        long p = ArithmeticGenerator.pow10(Long.toString(v).length() - 1);
        long rest = v;
        while (p >= 1) {
            long d = rest / p * p;
            if (d != 0) parts.add(d);
            rest -= d;
            p /= 10;
        }
        return parts;
    }

    /** A plausible wrong result: off by one, by ten, or a digit dropped; never equal, never negative if c isn't. */
    static long slipOf(long c, SplittableRandom r) {
        for (int t = 0; t < 20; t++) {
            long w = switch (r.nextInt(4)) {
                case 0 -> c + 1;
                case 1 -> c - 1;
                case 2 -> c + 10;
                default -> c >= 10 ? c - 10 : c + 2;
            };
            if (w != c && (w >= 0 || c < 0)) return w;
        }
        return c + 1;
    }

    /** A wrong final answer for a slipped copy or a bad guess. */
    public static long wrongAnswer(long c, SplittableRandom r) {
        return slipOf(c, r);
    }

    /** Renders the steps as symbols ({@code 47+30=77, 77+8=85}). */
    public static String symbolic(Trace t, Lang lang) {
        StringBuilder sb = new StringBuilder();
        for (Step s : t.steps()) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(s.a()).append(s.op()).append(s.b()).append('=').append(s.shown());
            if (s.recheck()) {
                sb.append(", ").append(lang.waitCheck).append(' ')
                        .append(s.a()).append(s.op()).append(s.b()).append('=').append(s.correct());
            }
        }
        return sb.toString();
    }

    /** Renders the steps as words in one language ({@code first 47 plus 30 is 77. then 77 plus 8 is 85.}). */
    public static String words(Trace t, Lang lang) {
        return words(t, i -> lang);
    }

    /** Words with the language chosen per step (for mixed-language chains). */
    public static String words(Trace t, java.util.function.IntFunction<Lang> langOfStep) {
        StringBuilder sb = new StringBuilder();
        List<Step> steps = t.steps();
        for (int i = 0; i < steps.size(); i++) {
            Lang l = langOfStep.apply(i);
            Step s = steps.get(i);
            if (i > 0) sb.append(' ');
            sb.append(i == 0 ? l.first : l.then).append(' ').append(phrase(s.a(), s.op(), s.b(), s.shown(), l)).append('.');
            if (s.recheck()) {
                sb.append(' ').append(l.waitCheck).append(' ').append(phrase(s.a(), s.op(), s.b(), s.correct(), l)).append('.');
            }
        }
        return sb.toString();
    }

    static String phrase(long a, char op, long b, long c, Lang l) {
        return a + " " + l.opWord(op) + " " + b + " " + l.is + " " + c;
    }

    /**
     * A closing check of the last step by its inverse ({@code check: 85-8=77, ok}), or "" when the last
     * step is a multiplication (its inverse would be a division, beyond this toy world).
     */
    public static String inverseCheck(Trace t, Lang l) {
        Step s = t.steps().getLast();
        return switch (s.op()) {
            case '+' -> l.check + " " + s.shown() + "-" + s.b() + "=" + (s.shown() - s.b()) + ", " + l.ok;
            case '-' -> l.check + " " + s.shown() + "+" + s.b() + "=" + (s.shown() + s.b()) + ", " + l.ok;
            default -> "";
        };
    }
}

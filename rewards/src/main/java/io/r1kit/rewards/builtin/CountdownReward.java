package io.r1kit.rewards.builtin;

import io.r1kit.rewards.Completion;
import io.r1kit.rewards.RewardFunction;
import io.r1kit.rewards.RewardParams;
import io.r1kit.rewards.RewardProvider;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.math3.fraction.BigFraction;

/**
 * Countdown (TinyZero): the answer is an equation over the given numbers, each used exactly once,
 * with only {@code + - * /} and parentheses, that evaluates exactly (rationals, no float error) to
 * the target. Scores: {@code correct_score} (1.0) when right, {@code format_score} (0.1) when an
 * answer is present but wrong, 0 when there is no {@code <answer>} (or, with
 * {@code require_answer_tag: false}, no equation at all). A trailing {@code = target} is allowed.
 *
 * <p>Params: {@code numbers_column} (nums), {@code target_column} (target), {@code format_score},
 * {@code correct_score}, {@code require_answer_tag} (true). Null when the columns are missing.
 */
public final class CountdownReward implements RewardFunction {

    private static final Pattern ANSWER = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);
    private static final Pattern ALLOWED = Pattern.compile("^[\\d+\\-*/().\\s]+$");
    private static final Pattern INT = Pattern.compile("\\d+");

    private final String numsCol, targetCol;
    private final double formatScore, correctScore;
    private final boolean requireTag;

    public CountdownReward(RewardParams p) {
        p.requireOnly("numbers_column", "target_column", "format_score", "correct_score", "require_answer_tag");
        numsCol = p.getString("numbers_column", "nums");
        targetCol = p.getString("target_column", "target");
        formatScore = p.getDouble("format_score", 0.1);
        correctScore = p.getDouble("correct_score", 1.0);
        requireTag = p.getBoolean("require_answer_tag", true);
    }

    @Override
    public String name() {
        return "countdown";
    }

    @Override
    public List<Double> score(List<Completion> batch) {
        List<Double> out = new ArrayList<>();
        for (Completion c : batch) {
            Object nums = c.column(numsCol), target = c.column(targetCol);
            if (nums == null || target == null) {
                out.add(null);
                continue;
            }
            out.add(score(c.text(), parseNumbers(nums, c), parseTarget(target, c)));
        }
        return out;
    }

    /** Score of one completion. */
    public double score(String completion, long[] nums, BigFraction target) {
        String eq;
        Matcher m = ANSWER.matcher(completion);
        String last = null;
        while (m.find()) last = m.group(1);
        if (last != null) eq = last.strip();
        else if (requireTag) return 0.0;
        else eq = completion.strip();
        if (eq.isEmpty()) return 0.0;
        return isCorrect(eq, nums, target) ? correctScore : formatScore;
    }

    /** Is {@code equation} a valid use of {@code nums} that evaluates exactly to {@code target}? */
    public static boolean isCorrect(String equation, long[] nums, BigFraction target) {
        String eq = equation.replace('×', '*').replace('÷', '/').replace('−', '-').replace("\\times", "*").replace("\\div", "/")
                .replace("\\cdot", "*");
        int eqSign = eq.indexOf('=');
        if (eqSign >= 0) {
            BigFraction rhs = evaluate(eq.substring(eqSign + 1));
            if (rhs == null || !rhs.equals(target)) return false;
            eq = eq.substring(0, eqSign);
        }
        if (!ALLOWED.matcher(eq).matches()) return false;
        if (eq.contains(".")) return false; // decimals are not among the given numbers
        List<Long> used = new ArrayList<>();
        Matcher m = INT.matcher(eq);
        while (m.find()) {
            try {
                used.add(Long.parseLong(m.group()));
            } catch (NumberFormatException e) {
                return false;
            }
        }
        long[] u = used.stream().mapToLong(Long::longValue).toArray();
        long[] given = nums.clone();
        Arrays.sort(u);
        Arrays.sort(given);
        if (!Arrays.equals(u, given)) return false;
        BigFraction v = evaluate(eq);
        return v != null && v.equals(target);
    }

    /** Exact value of an arithmetic expression over integers, or null (syntax error, division by zero). */
    public static BigFraction evaluate(String expr) {
        Eval e = new Eval(expr.replaceAll("\\s+", ""));
        try {
            BigFraction v = e.sum();
            return e.pos == e.s.length() ? v : null;
        } catch (ArithmeticException | IllegalStateException ex) {
            return null;
        }
    }

    private static final class Eval {
        final String s;
        int pos;

        Eval(String s) { this.s = s; }

        BigFraction sum() {
            BigFraction v = product();
            while (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                char op = s.charAt(pos++);
                BigFraction r = product();
                v = op == '+' ? v.add(r) : v.subtract(r);
            }
            return v;
        }

        BigFraction product() {
            BigFraction v = unary();
            while (pos < s.length() && (s.charAt(pos) == '*' || s.charAt(pos) == '/')) {
                char op = s.charAt(pos++);
                BigFraction r = unary();
                if (op == '/') {
                    if (r.equals(BigFraction.ZERO)) throw new ArithmeticException("division by zero");
                    v = v.divide(r);
                } else v = v.multiply(r);
            }
            return v;
        }

        BigFraction unary() {
            if (pos < s.length() && s.charAt(pos) == '-') { pos++; return unary().negate(); }
            if (pos < s.length() && s.charAt(pos) == '+') { pos++; return unary(); }
            return atom();
        }

        BigFraction atom() {
            if (pos >= s.length()) throw new IllegalStateException("unexpected end");
            char c = s.charAt(pos);
            if (c == '(') {
                pos++;
                BigFraction v = sum();
                if (pos >= s.length() || s.charAt(pos) != ')') throw new IllegalStateException("missing )");
                pos++;
                return v;
            }
            int start = pos;
            while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '.')) pos++;
            if (start == pos) throw new IllegalStateException("expected a number at " + start);
            String num = s.substring(start, pos);
            if (num.contains(".")) return new BigFraction(new java.math.BigDecimal(num).doubleValue());
            return new BigFraction(new BigInteger(num));
        }
    }

    static long[] parseNumbers(Object v, Completion c) {
        List<Long> out = new ArrayList<>();
        if (v instanceof List<?> l) {
            for (Object o : l) out.add(toLong(o, c));
        } else {
            Matcher m = Pattern.compile("-?\\d+").matcher(v.toString());
            while (m.find()) out.add(Long.parseLong(m.group()));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("example " + c.exampleId() + ": column 'nums' has no numbers: " + v);
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static long toLong(Object o, Completion c) {
        if (o instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.longValue();
        try {
            return Long.parseLong(o.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("example " + c.exampleId() + ": 'nums' must hold integers, got " + o);
        }
    }

    static BigFraction parseTarget(Object v, Completion c) {
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return new BigFraction(n.longValue());
        BigFraction f = evaluate(v.toString().trim());
        if (f == null) throw new IllegalArgumentException("example " + c.exampleId() + ": 'target' must be a number, got " + v);
        return f;
    }

    public static final class Provider implements RewardProvider {
        public String name() { return "countdown"; }
        public String description() { return "TinyZero countdown: equation over 'nums' equal to 'target' (1.0), format only (0.1)"; }
        public RewardFunction create(RewardParams p) { return new CountdownReward(p); }
    }
}

package io.r1kit.rewards.math;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.apache.commons.math3.fraction.BigFraction;

/**
 * Decides whether a completion's final answer equals a gold answer.
 *
 * <p>Comparison rules, in order: identical normal forms; exact rationals (BigFraction) when both
 * sides are rational; a decimal written with at least {@value #MIN_ROUNDING_DECIMALS} places
 * matches a value that rounds to it; otherwise relative tolerance {@value #REL_TOL} on numeric
 * values (irrationals such as sqrt 2 and pi); symbolic expressions are evaluated at
 * {@value #SAMPLES} random points. Tuples are ordered, sets and bare lists are not, intervals
 * compare ends and their open/closed kind, matrices element by element, equations up to a
 * non-zero factor and inequalities up to a positive factor (so x >= 5 equals 5 <= x).
 */
public final class MathVerifier {

    /** Relative tolerance for values that are not exact rationals. */
    public static final double REL_TOL = 1e-6;
    /** A decimal answer with at least this many places matches a value that rounds to it. */
    public static final int MIN_ROUNDING_DECIMALS = 3;
    /** Random points at which symbolic expressions are compared. */
    public static final int SAMPLES = 12;
    /** Candidates longer than this are not parsed (bounds the work on a runaway completion). */
    public static final int MAX_ANSWER_CHARS = 1000;

    /** Outcome of one comparison; {@code parsed} is false when either side could not be read. */
    public record Verdict(boolean correct, boolean parsed, String gold, String predicted) { }

    private MathVerifier() { }

    /** Verifies a completion (free text with a final answer) against a gold answer column. */
    public static Verdict verify(String completion, String goldAnswer) {
        Parsed gold = firstParsed(AnswerExtractor.goldCandidates(goldAnswer), true);
        List<String> predCandidates = AnswerExtractor.candidates(completion);
        // words are an answer only when the gold is words too ("Evelyn"); otherwise they are prose
        boolean textGold = gold != null && gold.values.stream().anyMatch(v -> v instanceof MathValue.Text);
        Parsed pred = firstParsed(predCandidates, textGold);
        if (gold == null) {
            // The gold is not math we read: compare normal forms as text.
            String g = goldAnswer == null ? "" : textKey(AnswerNormalizer.normalize(goldAnswer));
            for (String c : predCandidates) {
                if (!g.isEmpty() && textKey(AnswerNormalizer.normalize(c)).equals(g)) return new Verdict(true, true, goldAnswer, c);
            }
            return new Verdict(false, false, goldAnswer, predCandidates.isEmpty() ? null : predCandidates.get(0));
        }
        if (pred == null) {
            return new Verdict(false, false, gold.source, predCandidates.isEmpty() ? null : predCandidates.get(0));
        }
        return new Verdict(equivalentParsed(gold, pred), true, gold.source, pred.source);
    }

    /** Compares two answer strings (each already the answer, not a whole completion). */
    public static boolean equivalentAnswers(String gold, String pred) {
        Parsed g = firstParsed(List.of(gold), true), p = firstParsed(List.of(pred), true);
        if (g == null || p == null) return textKey(AnswerNormalizer.normalize(gold)).equals(textKey(AnswerNormalizer.normalize(pred)));
        return equivalentParsed(g, p);
    }

    private record Parsed(String source, List<String> forms, List<MathValue> values) { }

    private static Parsed firstParsed(List<String> candidates, boolean allowText) {
        for (String c : candidates) {
            if (c.length() > MAX_ANSWER_CHARS) continue; // a paragraph is not a final answer
            List<String> forms = AnswerNormalizer.variants(c);
            List<MathValue> values = new ArrayList<>();
            List<String> okForms = new ArrayList<>();
            for (String f : forms) {
                MathValue v = parseOne(f);
                if (v instanceof MathValue.Text && !allowText) v = null;
                if (v != null) { values.add(v); okForms.add(f); }
                if (f.contains("=")) {
                    // "y = 2x + 1" may be an equation rather than an assignment: keep both readings
                    try {
                        MathValue eq = MathParser.parse(f, false);
                        if (!eq.equals(v)) values.add(eq);
                    } catch (MathParser.ParseException | RuntimeException ignored) {
                        // the assignment reading is all there is
                    }
                }
            }
            if (!values.isEmpty()) return new Parsed(c, okForms, values);
        }
        return null;
    }

    private static MathValue parseOne(String form) {
        if (form.isBlank()) return null;
        // words (a name, "Evelyn", a choice letter) are text
        if (Rx.matches(form, "[A-Za-z][A-Za-z '\\-]*[A-Za-z]") && Rx.sub(form, "[^A-Za-z]", "").length() >= 2
                && !Rx.matches(form, "(?i).*\\b(sin|cos|tan|ln|log|exp|sqrt|pi)\\b.*") && form.contains(" ") | form.length() > 3) {
            return new MathValue.Text(textKey(form));
        }
        if (looksLikeProse(form)) return null;
        try {
            return MathParser.parse(form);
        } catch (MathParser.ParseException | RuntimeException | StackOverflowError e) {
            return null;
        }
    }

    private static final java.util.regex.Pattern WORD = java.util.regex.Pattern.compile("(?<![\\\\A-Za-z])[A-Za-z]{3,}");
    private static final Set<String> MATH_WORDS = Set.of("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan",
            "sinh", "cosh", "tanh", "log", "exp", "sqrt");

    /** A sentence is not an answer: words of three or more letters that are not function names. */
    private static final java.util.regex.Pattern SHORT_WORD = java.util.regex.Pattern.compile(
            "(?i)(?<![\\\\A-Za-z0-9])(is|it|so|of|to|be|we|as|at|by|an|if|on|my|no|do|the|and)(?![A-Za-z0-9])");

    private static boolean looksLikeProse(String form) {
        form = Rx.sub(form, "\\\\(?:begin|end)\\{[^}]*\\}(?:\\{[^}]*\\})?", " ");
        java.util.regex.Matcher m = WORD.matcher(form);
        while (m.find()) if (!MATH_WORDS.contains(m.group().toLowerCase())) return true;
        return SHORT_WORD.matcher(form).find();
    }

    private static String textKey(String s) {
        return Rx.sub(s.toLowerCase(), "[\\s{}()]", "").replace("\\text", "");
    }

    private static boolean equivalentParsed(Parsed gold, Parsed pred) {
        for (String g : gold.forms) for (String p : pred.forms) if (textKey(g).equals(textKey(p)) && !g.isBlank()) return true;
        for (MathValue g : gold.values) for (MathValue p : pred.values) if (equivalent(g, p)) return true;
        return false;
    }

    /** Structural equivalence of two parsed answers. */
    public static boolean equivalent(MathValue a, MathValue b) {
        if (a instanceof MathValue.SetOf s && s.items().size() == 1 && !(b instanceof MathValue.SetOf)) return equivalent(s.items().get(0), b);
        if (b instanceof MathValue.SetOf s && s.items().size() == 1 && !(a instanceof MathValue.SetOf)) return equivalent(a, s.items().get(0));
        return switch (a) {
            case MathValue.Scalar x -> b instanceof MathValue.Scalar y ? scalarEq(x.expr(), y.expr())
                    : b instanceof MathValue.Text t && textOf(x.expr()) != null && textOf(x.expr()).equals(t.text());
            case MathValue.Text x -> b instanceof MathValue.Text y ? x.text().equals(y.text())
                    : b instanceof MathValue.Scalar s && x.text().equals(textOf(s.expr()));
            // the gold's structure decides whether order matters: a gold pair (3, 1) needs 3 first even
            // when the prediction is written as a bare list; a gold list of roots does not
            case MathValue.Tuple x -> switch (b) {
                case MathValue.Tuple y -> ordered(x.items(), y.items());
                case MathValue.SetOf y -> ordered(x.items(), y.items());
                case MathValue.Matrix y -> ordered(x.items(), vectorItems(y));
                default -> false;
            };
            case MathValue.SetOf x -> switch (b) {
                case MathValue.SetOf y -> unordered(x.items(), y.items());
                case MathValue.Tuple y -> unordered(x.items(), y.items());
                default -> false;
            };
            case MathValue.Interval x -> b instanceof MathValue.Interval y && x.lowClosed() == y.lowClosed()
                    && x.highClosed() == y.highClosed() && scalarEq(x.low(), y.low()) && scalarEq(x.high(), y.high());
            case MathValue.Union x -> b instanceof MathValue.Union y && unordered(x.parts(), y.parts());
            case MathValue.Matrix x -> switch (b) {
                case MathValue.Matrix y -> matrixEq(x, y);
                case MathValue.Tuple y -> ordered(vectorItems(x), y.items());
                default -> false;
            };
            case MathValue.Relation x -> b instanceof MathValue.Relation y && relationEq(x, y);
        };
    }

    /** A product of single-letter variables read back as a word ("E" or "Evelyn"), else null. */
    private static String textOf(Expr e) {
        if (e instanceof Expr.Var v && v.name().length() == 1) return v.name().toLowerCase();
        if (e instanceof Expr.Const c && c.name().equals("e")) return "e";
        if (e instanceof Expr.Mul m) {
            String l = textOf(m.left()), r = textOf(m.right());
            return l == null || r == null ? null : l + r;
        }
        return null;
    }

    private static List<MathValue> vectorItems(MathValue.Matrix m) {
        List<MathValue> out = new ArrayList<>();
        if (m.rows().size() == 1) for (Expr e : m.rows().get(0)) out.add(new MathValue.Scalar(e));
        else if (m.rows().get(0).size() == 1) for (List<Expr> r : m.rows()) out.add(new MathValue.Scalar(r.get(0)));
        return out;
    }

    private static boolean ordered(List<MathValue> a, List<MathValue> b) {
        if (a.size() != b.size() || a.isEmpty()) return a.size() == b.size();
        for (int i = 0; i < a.size(); i++) if (!equivalent(a.get(i), b.get(i))) return false;
        return true;
    }

    /** Multiset match (greedy is enough: equivalence is transitive). */
    private static boolean unordered(List<MathValue> a, List<MathValue> b) {
        if (a.size() != b.size()) return false;
        boolean[] used = new boolean[b.size()];
        outer:
        for (MathValue x : a) {
            for (int j = 0; j < b.size(); j++) {
                if (!used[j] && equivalent(x, b.get(j))) { used[j] = true; continue outer; }
            }
            return false;
        }
        return true;
    }

    private static boolean matrixEq(MathValue.Matrix a, MathValue.Matrix b) {
        if (a.rows().size() != b.rows().size()) return false;
        for (int i = 0; i < a.rows().size(); i++) {
            List<Expr> ra = a.rows().get(i), rb = b.rows().get(i);
            if (ra.size() != rb.size()) return false;
            for (int j = 0; j < ra.size(); j++) if (!scalarEq(ra.get(j), rb.get(j))) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- scalars

    /** Equality of two scalar expressions (see the class comment for the rules). */
    public static boolean scalarEq(Expr a, Expr b) {
        Set<String> vars = new TreeSet<>(a.variables());
        vars.addAll(b.variables());
        if (vars.isEmpty()) {
            BigFraction ea = a.exact(), eb = b.exact();
            if (ea != null && eb != null) {
                if (ea.equals(eb)) return true;
                return roundsTo(a, decimal(eb, 40)) || roundsTo(b, decimal(ea, 40));
            }
            double da = a.eval(Map.of()), db = b.eval(Map.of());
            if (Double.isNaN(da) || Double.isNaN(db)) return false;
            if (Double.isInfinite(da) || Double.isInfinite(db)) return da == db;
            if (close(da, db, REL_TOL)) return true;
            return roundsTo(a, new BigDecimal(db)) || roundsTo(b, new BigDecimal(da));
        }
        SplittableRandom rng = new SplittableRandom(0x5eedL);
        int valid = 0;
        for (int t = 0; t < SAMPLES * 3 && valid < SAMPLES; t++) {
            Map<String, Double> env = new HashMap<>();
            for (String v : vars) env.put(v, 0.25 + rng.nextDouble() * 2.0);
            double va = a.eval(env), vb = b.eval(env);
            boolean na = Double.isNaN(va) || Double.isInfinite(va), nb = Double.isNaN(vb) || Double.isInfinite(vb);
            if (na && nb) continue;
            if (na != nb) return false;
            if (!close(va, vb, 1e-8)) return false;
            valid++;
        }
        return valid >= 3;
    }

    /** Is {@code e} a decimal literal with enough places that {@code value} rounds to? */
    private static boolean roundsTo(Expr e, BigDecimal value) {
        boolean neg = false;
        if (e instanceof Expr.Neg n) { neg = true; e = n.arg(); }
        if (!(e instanceof Expr.Num num) || num.decimals() < MIN_ROUNDING_DECIMALS) return false;
        BigDecimal lit = decimal(num.value(), num.decimals());
        if (neg) lit = lit.negate();
        return value.setScale(num.decimals(), RoundingMode.HALF_UP).compareTo(lit) == 0
                || value.setScale(num.decimals(), RoundingMode.DOWN).compareTo(lit) == 0;
    }

    private static BigDecimal decimal(BigFraction f, int scale) {
        return new BigDecimal(f.getNumerator()).divide(new BigDecimal(f.getDenominator()), scale, RoundingMode.HALF_EVEN);
    }

    private static boolean close(double a, double b, double rel) {
        if (a == b) return true;
        double scale = Math.max(1e-12, Math.max(Math.abs(a), Math.abs(b)));
        return Math.abs(a - b) <= rel * Math.max(scale, 1e-3);
    }

    // ---------------------------------------------------------------- relations

    private static boolean relationEq(MathValue.Relation a, MathValue.Relation b) {
        if (a.terms().size() == 2 && b.terms().size() == 2) {
            String oa = a.ops().get(0), ob = b.ops().get(0);
            Expr da = difference(a.terms().get(0), a.terms().get(1), oa);
            Expr db = difference(b.terms().get(0), b.terms().get(1), ob);
            String ca = canonicalOp(oa), cb = canonicalOp(ob);
            if (!ca.equals(cb)) return false;
            boolean signMatters = ca.equals("<") || ca.equals("<=");
            return proportional(da, db, signMatters);
        }
        if (a.terms().size() != b.terms().size()) return false;
        if (chainEq(a.terms(), a.ops(), b.terms(), b.ops())) return true;
        List<Expr> rt = new ArrayList<>(b.terms());
        java.util.Collections.reverse(rt);
        List<String> ro = new ArrayList<>();
        for (int i = b.ops().size() - 1; i >= 0; i--) ro.add(flip(b.ops().get(i)));
        return chainEq(a.terms(), a.ops(), rt, ro);
    }

    private static boolean chainEq(List<Expr> ta, List<String> oa, List<Expr> tb, List<String> ob) {
        if (!oa.equals(ob)) return false;
        for (int i = 0; i < ta.size(); i++) if (!scalarEq(ta.get(i), tb.get(i))) return false;
        return true;
    }

    private static String flip(String op) {
        return switch (op) {
            case "<" -> ">";
            case ">" -> "<";
            case "<=" -> ">=";
            case ">=" -> "<=";
            default -> op;
        };
    }

    private static String canonicalOp(String op) {
        return switch (op) {
            case ">" -> "<";
            case ">=" -> "<=";
            default -> op;
        };
    }

    /** lhs - rhs oriented so that the relation reads "difference OP 0" with OP in {<, <=, =, !=}. */
    private static Expr difference(Expr lhs, Expr rhs, String op) {
        return op.equals(">") || op.equals(">=") ? new Expr.Sub(rhs, lhs) : new Expr.Sub(lhs, rhs);
    }

    /** Is a = k * b for a constant k != 0 (k > 0 when the sign matters)? */
    private static boolean proportional(Expr a, Expr b, boolean positive) {
        Set<String> vars = new TreeSet<>(a.variables());
        vars.addAll(b.variables());
        SplittableRandom rng = new SplittableRandom(0xfaceL);
        Double k = null;
        int valid = 0;
        for (int t = 0; t < SAMPLES * 3 && valid < SAMPLES; t++) {
            Map<String, Double> env = new HashMap<>();
            for (String v : vars) env.put(v, -2.0 + rng.nextDouble() * 4.0);
            double va = a.eval(env), vb = b.eval(env);
            if (!Double.isFinite(va) || !Double.isFinite(vb)) continue;
            boolean za = Math.abs(va) < 1e-12, zb = Math.abs(vb) < 1e-12;
            if (za && zb) continue;
            if (za != zb) return false;
            double r = va / vb;
            if (k == null) k = r;
            else if (!close(r, k, 1e-8)) return false;
            valid++;
            if (vars.isEmpty()) break;
        }
        if (k == null) return valid == 0 && vars.isEmpty() ? scalarEq(a, b) : k == null;
        return !positive || k > 0;
    }
}

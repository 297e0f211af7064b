package io.r1kit.rewards.math;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a normalised answer string (LaTeX or plain) into a {@link MathValue}. Throws
 * {@link ParseException} when the string is not math it understands; callers count that as a
 * parse failure, not an error.
 */
public final class MathParser {

    /** The answer text is not math this parser understands. */
    public static final class ParseException extends Exception {
        public ParseException(String message) {
            super(message, null, false, false);
        }
    }

    enum Kind { NUM, IDENT, TEXT, CMD, SYM, MATRIX_BEGIN, MATRIX_END, ROW_SEP, END }

    record Token(Kind kind, String text) {
        boolean is(String s) {
            return (kind == Kind.SYM || kind == Kind.CMD) && text.equals(s);
        }
    }

    private static final Set<String> FUNCTIONS = Set.of("sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
            "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp");
    private static final Set<String> RELATIONS = Set.of("=", "<", ">", "<=", ">=", "!=");
    private static final Map<String, String> REL_COMMANDS = Map.ofEntries(
            Map.entry("\\le", "<="), Map.entry("\\leq", "<="), Map.entry("\\leqslant", "<="),
            Map.entry("\\ge", ">="), Map.entry("\\geq", ">="), Map.entry("\\geqslant", ">="),
            Map.entry("\\lt", "<"), Map.entry("\\gt", ">"), Map.entry("\\ne", "!="), Map.entry("\\neq", "!="),
            Map.entry("\\approx", "~"), Map.entry("\\equiv", "="));

    private final List<Token> tokens;
    private int pos;

    private MathParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    /** Parses a normalised answer. */
    public static MathValue parse(String text) throws ParseException {
        return parse(text, true);
    }

    /**
     * Parses a normalised answer; with {@code assignmentAsValue} a final {@code name = value} (x = 5,
     * (p, q) = (1, 2)) reads as its value, otherwise as an equation (y = 2x + 1 is a line).
     */
    public static MathValue parse(String text, boolean assignmentAsValue) throws ParseException {
        List<Token> toks = tokenize(text);
        if (toks.size() <= 1) throw new ParseException("empty answer");
        MathParser p = new MathParser(toks);
        p.assignmentAsValue = assignmentAsValue;
        return p.topLevel(0, toks.size() - 1);
    }

    private boolean assignmentAsValue = true;

    // ---------------------------------------------------------------- tokenizer

    static List<Token> tokenize(String s) throws ParseException {
        List<Token> out = new ArrayList<>();
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) { i++; continue; }
            if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int j = i;
                while (j < n && Character.isDigit(s.charAt(j))) j++;
                if (j < n && s.charAt(j) == '.' && j + 1 < n && Character.isDigit(s.charAt(j + 1))) {
                    j++;
                    while (j < n && Character.isDigit(s.charAt(j))) j++;
                } else if (j < n && s.charAt(j) == '.' && !(j + 1 < n && s.charAt(j + 1) == '.')) {
                    j++; // "5." is 5
                }
                String num = s.substring(i, j);
                // base-n numeral 204_5 or 204_{5}: compared as text
                if (j < n && s.charAt(j) == '_') {
                    int k = j + 1;
                    String base = null;
                    if (k < n && s.charAt(k) == '{') {
                        int close = s.indexOf('}', k);
                        if (close > 0) { base = s.substring(k + 1, close).trim(); k = close + 1; }
                    } else {
                        int m = k;
                        while (m < n && Character.isDigit(s.charAt(m))) m++;
                        base = s.substring(k, m);
                        k = m;
                    }
                    if (base != null && !base.isEmpty() && base.chars().allMatch(Character::isDigit)) {
                        out.add(new Token(Kind.TEXT, num.replaceAll("\\.$", "") + "_" + base));
                        i = k;
                        continue;
                    }
                }
                out.add(new Token(Kind.NUM, num.endsWith(".") ? num.substring(0, num.length() - 1) : num));
                i = j;
                continue;
            }
            if (Character.isLetter(c) && c < 128) {
                int j = i;
                while (j < n && Character.isLetter(s.charAt(j)) && s.charAt(j) < 128) j++;
                String word = s.substring(i, j);
                // split a run of letters into known function names and single-letter variables
                int k = 0;
                while (k < word.length()) {
                    String fn = null;
                    for (String f : FUNCTIONS) {
                        if (word.startsWith(f, k) && (fn == null || f.length() > fn.length())) fn = f;
                    }
                    if (word.startsWith("sqrt", k)) fn = "sqrt";
                    if (word.startsWith("pi", k) && fn == null && word.length() == 2) fn = "pi";
                    if (fn != null) {
                        out.add(new Token(Kind.CMD, "\\" + fn));
                        k += fn.length();
                    } else {
                        String name = String.valueOf(word.charAt(k));
                        k++;
                        if (k == word.length()) {
                            int[] end = new int[1];
                            String sub = subscript(s, j, end);
                            if (sub != null) { name = name + "_" + sub; j = end[0]; }
                        }
                        out.add(new Token(Kind.IDENT, name));
                    }
                }
                i = j;
                continue;
            }
            if (c == '\\') {
                if (i + 1 < n && s.charAt(i + 1) == '\\') { out.add(new Token(Kind.ROW_SEP, "\\\\")); i += 2; continue; }
                if (i + 1 < n && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
                    out.add(new Token(Kind.SYM, s.charAt(i + 1) == '{' ? "\\{" : "\\}"));
                    i += 2;
                    continue;
                }
                int j = i + 1;
                while (j < n && Character.isLetter(s.charAt(j))) j++;
                if (j == i + 1) { i += 2; continue; } // \, \! \; etc.: spacing
                String cmd = s.substring(i, j);
                if (cmd.equals("\\begin") || cmd.equals("\\end")) {
                    int close = s.indexOf('}', j);
                    if (close < 0) throw new ParseException("unclosed " + cmd);
                    String env = s.substring(s.indexOf('{', j) + 1, close).trim();
                    i = close + 1;
                    if (cmd.equals("\\begin") && env.equals("array") && i < n && s.charAt(i) == '{') {
                        int c2 = s.indexOf('}', i);
                        if (c2 > 0) i = c2 + 1; // column spec
                    }
                    if (!env.endsWith("matrix") && !env.equals("array")) throw new ParseException("environment " + env);
                    out.add(new Token(cmd.equals("\\begin") ? Kind.MATRIX_BEGIN : Kind.MATRIX_END, env));
                    continue;
                }
                String rel = REL_COMMANDS.get(cmd);
                if (rel != null) { out.add(new Token(Kind.SYM, rel)); i = j; continue; }
                switch (cmd) {
                    case "\\cdot", "\\times", "\\ast" -> out.add(new Token(Kind.SYM, "*"));
                    case "\\div" -> out.add(new Token(Kind.SYM, "/"));
                    case "\\pm", "\\mp" -> out.add(new Token(Kind.SYM, "±"));
                    case "\\cup" -> out.add(new Token(Kind.SYM, "∪"));
                    case "\\in" -> out.add(new Token(Kind.SYM, "∈"));
                    case "\\lbrace" -> out.add(new Token(Kind.SYM, "\\{"));
                    case "\\rbrace" -> out.add(new Token(Kind.SYM, "\\}"));
                    case "\\lvert", "\\rvert", "\\vert", "\\mid" -> out.add(new Token(Kind.SYM, "|"));
                    case "\\langle" -> out.add(new Token(Kind.SYM, "("));
                    case "\\rangle" -> out.add(new Token(Kind.SYM, ")"));
                    case "\\dots", "\\ldots", "\\cdots" -> out.add(new Token(Kind.SYM, "...")); 
                    case "\\quad", "\\qquad", "\\displaystyle", "\\left", "\\right", "\\mathrm", "\\mathbf", "\\mathit" -> { }
                    default -> out.add(new Token(Kind.CMD, cmd));
                }
                i = j;
                continue;
            }
            // multi-char symbols
            if (s.startsWith("<=", i) || s.startsWith(">=", i) || s.startsWith("!=", i)) {
                out.add(new Token(Kind.SYM, s.substring(i, i + 2)));
                i += 2;
                continue;
            }
            if (s.startsWith("...", i)) { out.add(new Token(Kind.SYM, "...")); i += 3; continue; }
            switch (c) {
                case '≤' -> out.add(new Token(Kind.SYM, "<="));
                case '≥' -> out.add(new Token(Kind.SYM, ">="));
                case '≠' -> out.add(new Token(Kind.SYM, "!="));
                case '≈' -> out.add(new Token(Kind.SYM, "~"));
                case '×', '·', '⋅' -> out.add(new Token(Kind.SYM, "*"));
                case '÷' -> out.add(new Token(Kind.SYM, "/"));
                case '−', '–' -> out.add(new Token(Kind.SYM, "-"));
                case '±' -> out.add(new Token(Kind.SYM, "±"));
                case '∪' -> out.add(new Token(Kind.SYM, "∪"));
                case '∞' -> out.add(new Token(Kind.CMD, "\\infty"));
                case 'π' -> out.add(new Token(Kind.CMD, "\\pi"));
                case '√' -> out.add(new Token(Kind.CMD, "\\sqrt"));
                case '²' -> { out.add(new Token(Kind.SYM, "^")); out.add(new Token(Kind.NUM, "2")); }
                case '³' -> { out.add(new Token(Kind.SYM, "^")); out.add(new Token(Kind.NUM, "3")); }
                case '+', '-', '*', '/', '^', '(', ')', '[', ']', '{', '}', ',', '=', '<', '>', '|', '!', '&', '_', ';' ->
                        out.add(new Token(Kind.SYM, String.valueOf(c)));
                case ':' -> out.add(new Token(Kind.SYM, "/")); // ratio 1:4
                case '\'', '"', '?', '`' -> { }
                default -> throw new ParseException("unexpected character '" + c + "'");
            }
            i++;
        }
        out.add(new Token(Kind.END, ""));
        return out;
    }

    /** Subscript after an identifier: x_1, x_{12}, a_n. Returns null when there is none. */
    private static String subscript(String s, int i, int[] end) {
        if (i >= s.length() || s.charAt(i) != '_') return null;
        int k = i + 1;
        if (k < s.length() && s.charAt(k) == '{') {
            int close = s.indexOf('}', k);
            if (close < 0) return null;
            end[0] = close + 1;
            return s.substring(k + 1, close).replace(" ", "");
        }
        if (k < s.length() && Character.isLetterOrDigit(s.charAt(k))) {
            end[0] = k + 1;
            return String.valueOf(s.charAt(k));
        }
        return null;
    }

    // ---------------------------------------------------------------- top level structures

    private Token tok(int i) {
        return tokens.get(i);
    }

    /** Index of the matching close for the open bracket at i (any of ( [ { \{), or -1. */
    private int matching(int i, int end) {
        int depth = 0;
        for (int k = i; k < end; k++) {
            Token t = tok(k);
            if (t.kind == Kind.MATRIX_BEGIN) depth++;
            else if (t.kind == Kind.MATRIX_END) depth--;
            else if (t.kind == Kind.SYM) {
                switch (t.text) {
                    case "(", "[", "{", "\\{" -> depth++;
                    case ")", "]", "}", "\\}" -> depth--;
                    default -> { }
                }
            }
            if (depth == 0) return k;
        }
        return -1;
    }

    /** Top-level (depth 0) positions of the symbols in {@code syms} within [from, to). */
    private List<Integer> splitPoints(int from, int to, Set<String> syms) {
        List<Integer> out = new ArrayList<>();
        int depth = 0;
        boolean inAbs = false;
        for (int k = from; k < to; k++) {
            Token t = tok(k);
            if (t.kind == Kind.MATRIX_BEGIN) { depth++; continue; }
            if (t.kind == Kind.MATRIX_END) { depth--; continue; }
            if (t.kind != Kind.SYM) continue;
            switch (t.text) {
                case "(", "[", "{", "\\{" -> depth++;
                case ")", "]", "}", "\\}" -> depth--;
                case "|" -> inAbs = !inAbs;
                default -> {
                    if (depth == 0 && !inAbs && syms.contains(t.text)) out.add(k);
                }
            }
        }
        return out;
    }

    private static final Set<String> REL_OR_APPROX = Set.of("=", "<", ">", "<=", ">=", "!=", "~");

    MathValue topLevel(int from, int to) throws ParseException {
        if (from >= to) throw new ParseException("empty");
        // "x \in [a, b]": the membership prefix is not part of the answer
        List<Integer> member = splitPoints(from, to, Set.of("∈"));
        if (!member.isEmpty()) from = member.get(member.size() - 1) + 1;

        List<Integer> rels = splitPoints(from, to, REL_OR_APPROX);
        List<Integer> commas = splitPoints(from, to, Set.of(",", ";"));
        if (!rels.isEmpty() && !commas.isEmpty()) {
            // "x = 2, x = 3" (also "x = 2 or x = 3"): a list of solutions
            List<MathValue> items = new ArrayList<>();
            int start = from;
            for (int c : commas) { items.add(topLevel(start, c)); start = c + 1; }
            items.add(topLevel(start, to));
            return new MathValue.SetOf(items);
        }
        if (!rels.isEmpty()) return relation(from, to, rels);
        return structure(from, to);
    }

    private MathValue relation(int from, int to, List<Integer> rels) throws ParseException {
        List<int[]> parts = new ArrayList<>();
        List<String> ops = new ArrayList<>();
        int start = from;
        for (int r : rels) {
            parts.add(new int[] {start, r});
            ops.add(tok(r).text);
            start = r + 1;
        }
        parts.add(new int[] {start, to});
        for (int[] p : parts) if (p[0] >= p[1]) throw new ParseException("empty side of a relation");

        // "a = b ~ c": an approximation after an exact value is dropped (x = 1/3 \approx 0.33)
        while (ops.contains("~")) {
            int k = ops.lastIndexOf("~");
            if (k == 0 && ops.size() == 1) {
                // "x \approx 11": take the value unless the left side is a value itself
                return isNameLike(parts.get(0)) ? structure(parts.get(1)[0], parts.get(1)[1]) : structure(parts.get(0)[0], parts.get(0)[1]);
            }
            parts.remove(k + 1);
            ops.remove(k);
        }
        boolean allEq = ops.stream().allMatch("="::equals);
        if (allEq) {
            // "x = 5", "(p,q) = (1,2)", "x = 5 + 5 + 1 = 11": a name on the left, or a chain, gives its last value
            if (assignmentAsValue && isNameLike(parts.get(0)) || parts.size() > 2 || parts.stream().allMatch(this::noVariables)) {
                int[] last = parts.get(parts.size() - 1);
                return structure(last[0], last[1]);
            }
        }
        List<Expr> terms = new ArrayList<>();
        for (int[] p : parts) terms.add(expression(p[0], p[1]));
        return new MathValue.Relation(terms, ops);
    }

    /** No variables on this side: "1/2 = 10/9"-style working whose last value is the result. */
    private boolean noVariables(int[] part) {
        for (int k = part[0]; k < part[1]; k++) if (tok(k).kind == Kind.IDENT) return false;
        return true;
    }

    /** A bare name (x, k, x_1, f(x), a tuple of names) that a final "name = value" assigns to. */
    private boolean isNameLike(int[] part) {
        int a = part[0], b = part[1];
        if (b - a == 1 && (tok(a).kind == Kind.IDENT)) return true;
        if (b - a == 1 && tok(a).kind == Kind.CMD && !tok(a).text.equals("\\pi") && !tok(a).text.equals("\\infty")) return true;
        // f(x), P(A)
        if (b - a == 4 && tok(a).kind == Kind.IDENT && tok(a + 1).is("(") && tok(b - 1).is(")")) return true;
        // (p, q, r)
        if (tok(a).is("(") && tok(b - 1).is(")") && matching(a, b) == b - 1) {
            for (int k = a + 1; k < b - 1; k++) {
                Token t = tok(k);
                if (!(t.kind == Kind.IDENT || t.is(","))) return false;
            }
            return true;
        }
        return false;
    }

    private MathValue structure(int from, int to) throws ParseException {
        List<Integer> unions = splitPoints(from, to, Set.of("∪"));
        if (!unions.isEmpty()) {
            List<MathValue> parts = new ArrayList<>();
            int start = from;
            for (int u : unions) { parts.add(element(start, u)); start = u + 1; }
            parts.add(element(start, to));
            return new MathValue.Union(parts);
        }
        List<Integer> commas = splitPoints(from, to, Set.of(",", ";"));
        if (!commas.isEmpty()) {
            List<MathValue> items = new ArrayList<>();
            int start = from;
            for (int c : commas) { addItems(items, start, c); start = c + 1; }
            if (start < to) addItems(items, start, to);
            return new MathValue.SetOf(items);
        }
        return element(from, to);
    }

    private void addItems(List<MathValue> items, int from, int to) throws ParseException {
        if (from >= to) throw new ParseException("empty list item");
        MathValue v = element(from, to);
        if (v instanceof MathValue.SetOf s && isPlusMinus(from, to)) items.addAll(s.items());
        else items.add(v);
    }

    private boolean isPlusMinus(int from, int to) {
        return !splitPoints(from, to, Set.of("±")).isEmpty();
    }

    private MathValue element(int from, int to) throws ParseException {
        if (from >= to) throw new ParseException("empty");
        Token first = tok(from), last = tok(to - 1);
        for (int k = from; k < to; k++) if (tok(k).is("...")) throw new ParseException("ellipsis");
        // text answers
        if (to - from == 1 && first.kind == Kind.TEXT) return new MathValue.Text(first.text);
        // matrices
        if (first.kind == Kind.MATRIX_BEGIN && last.kind == Kind.MATRIX_END && matching(from, to) == to - 1) {
            return matrix(from + 1, to - 1);
        }
        // brackets around a whole structure
        if ((first.is("(") || first.is("[")) && (last.is(")") || last.is("]")) && matching(from, to) == to - 1) {
            List<Integer> commas = splitPoints(from + 1, to - 1, Set.of(","));
            if (commas.isEmpty()) {
                if (tok(from + 1).kind == Kind.MATRIX_BEGIN && tok(to - 2).kind == Kind.MATRIX_END) return element(from + 1, to - 1);
                if (first.is("(") && last.is(")")) {
                    MathValue inner = structure(from + 1, to - 1);
                    if (!(inner instanceof MathValue.Scalar)) return inner;
                }
            } else {
                List<MathValue> items = new ArrayList<>();
                int start = from + 1;
                for (int c : commas) { items.add(element(start, c)); start = c + 1; }
                items.add(element(start, to - 1));
                boolean bothOpen = first.is("(") && last.is(")");
                if (!bothOpen && items.size() == 2 && items.get(0) instanceof MathValue.Scalar lo
                        && items.get(1) instanceof MathValue.Scalar hi) {
                    return new MathValue.Interval(lo.expr(), hi.expr(), first.is("["), last.is("]"));
                }
                if (bothOpen) return new MathValue.Tuple(items);
                if (first.is("[") && last.is("]")) return new MathValue.Tuple(items);
                throw new ParseException("mixed brackets around a list");
            }
        }
        // matrix arithmetic: A + B, A B, 2 A, \frac{t}{6} A
        if (containsMatrix(from, to)) return matrixExpression(from, to);
        if ((first.is("\\{") && last.is("\\}")) || (first.is("{") && last.is("}") && !splitPoints(from + 1, to - 1, Set.of(",")).isEmpty())) {
            if (matching(from, to) == to - 1) {
                if (to - from == 2) return new MathValue.SetOf(List.of());
                MathValue inner = structure(from + 1, to - 1);
                if (inner instanceof MathValue.SetOf s) return s;
                return new MathValue.SetOf(List.of(inner));
            }
        }
        // a \pm b
        List<Integer> pm = splitPoints(from, to, Set.of("±"));
        if (pm.size() == 1) {
            int p = pm.get(0);
            Expr b = expression(p + 1, to);
            if (p == from) return new MathValue.SetOf(List.of(new MathValue.Scalar(b), new MathValue.Scalar(new Expr.Neg(b))));
            Expr a = expression(from, p);
            return new MathValue.SetOf(List.of(new MathValue.Scalar(new Expr.Add(a, b)), new MathValue.Scalar(new Expr.Sub(a, b))));
        }
        return new MathValue.Scalar(expression(from, to));
    }

    private boolean containsMatrix(int from, int to) {
        for (int k = from; k < to; k++) if (tok(k).kind == Kind.MATRIX_BEGIN) return true;
        return false;
    }

    /** Sums of products of matrix literals and scalars, evaluated to one matrix. */
    private MathValue matrixExpression(int from, int to) throws ParseException {
        List<List<Expr>> acc = null;
        int start = from;
        boolean negate = false;
        int depth = 0;
        for (int k = from; k <= to; k++) {
            Token t = k < to ? tok(k) : null;
            if (t != null && t.kind == Kind.MATRIX_BEGIN) depth++;
            if (t != null && t.kind == Kind.MATRIX_END) depth--;
            boolean split = t == null || (depth == 0 && (t.is("+") || t.is("-")) && k > start);
            if (!split) continue;
            List<List<Expr>> term = matrixProduct(start, k);
            if (negate) term = scale(term, Expr.Num.of(-1));
            acc = acc == null ? term : add(acc, term);
            negate = t != null && t.is("-");
            start = k + 1;
        }
        if (acc == null) throw new ParseException("empty matrix expression");
        return new MathValue.Matrix(acc);
    }

    private List<List<Expr>> matrixProduct(int from, int to) throws ParseException {
        List<List<Expr>> result = null;
        Expr scalar = null;
        int k = from;
        while (k < to) {
            Token t = tok(k);
            if (t.is("*") || t.is("(") && k + 1 < to && tok(k + 1).kind == Kind.MATRIX_BEGIN) { k++; continue; }
            if (t.is(")")) { k++; continue; }
            if (t.kind == Kind.MATRIX_BEGIN) {
                int end = matching(k, to);
                if (end < 0) throw new ParseException("unclosed matrix");
                List<List<Expr>> m = ((MathValue.Matrix) matrix(k + 1, end)).rows();
                result = result == null ? m : multiply(result, m);
                k = end + 1;
                continue;
            }
            // a scalar factor runs up to the next matrix
            int e = k;
            while (e < to && tok(e).kind != Kind.MATRIX_BEGIN && !(tok(e).is("(") && e + 1 < to && tok(e + 1).kind == Kind.MATRIX_BEGIN)) e++;
            int end = e;
            while (end > k && tok(end - 1).is("*")) end--;
            Expr f = expression(k, end);
            scalar = scalar == null ? f : new Expr.Mul(scalar, f);
            k = e;
        }
        if (result == null) throw new ParseException("a term without a matrix");
        return scalar == null ? result : scale(result, scalar);
    }

    private static List<List<Expr>> scale(List<List<Expr>> m, Expr s) {
        List<List<Expr>> out = new ArrayList<>();
        for (List<Expr> r : m) {
            List<Expr> row = new ArrayList<>();
            for (Expr e : r) row.add(new Expr.Mul(s, e));
            out.add(row);
        }
        return out;
    }

    private static List<List<Expr>> add(List<List<Expr>> a, List<List<Expr>> b) throws ParseException {
        if (a.size() != b.size() || a.get(0).size() != b.get(0).size()) throw new ParseException("matrix sizes differ in a sum");
        List<List<Expr>> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            List<Expr> row = new ArrayList<>();
            for (int j = 0; j < a.get(i).size(); j++) row.add(new Expr.Add(a.get(i).get(j), b.get(i).get(j)));
            out.add(row);
        }
        return out;
    }

    private static List<List<Expr>> multiply(List<List<Expr>> a, List<List<Expr>> b) throws ParseException {
        int n = a.size(), m = a.get(0).size(), p = b.get(0).size();
        if (b.size() != m) throw new ParseException("matrix sizes do not match in a product");
        List<List<Expr>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<Expr> row = new ArrayList<>();
            for (int j = 0; j < p; j++) {
                Expr sum = null;
                for (int k = 0; k < m; k++) {
                    Expr term = new Expr.Mul(a.get(i).get(k), b.get(k).get(j));
                    sum = sum == null ? term : new Expr.Add(sum, term);
                }
                row.add(sum);
            }
            out.add(row);
        }
        return out;
    }

    private MathValue matrix(int from, int to) throws ParseException {
        List<List<Expr>> rows = new ArrayList<>();
        List<Expr> row = new ArrayList<>();
        int start = from;
        int depth = 0;
        for (int k = from; k <= to; k++) {
            Token t = k < to ? tok(k) : null;
            if (t != null && t.kind == Kind.SYM && (t.text.equals("(") || t.text.equals("{") || t.text.equals("["))) depth++;
            if (t != null && t.kind == Kind.SYM && (t.text.equals(")") || t.text.equals("}") || t.text.equals("]"))) depth--;
            boolean cell = t != null && depth == 0 && t.is("&");
            boolean rowEnd = t == null || (depth == 0 && t.kind == Kind.ROW_SEP);
            if (cell || rowEnd) {
                if (start < k) row.add(expression(start, k));
                else if (cell) throw new ParseException("empty matrix cell");
                if (rowEnd && !row.isEmpty()) { rows.add(row); row = new ArrayList<>(); }
                start = k + 1;
            }
        }
        if (rows.isEmpty()) throw new ParseException("empty matrix");
        int w = rows.get(0).size();
        for (List<Expr> r : rows) if (r.size() != w) throw new ParseException("ragged matrix");
        return new MathValue.Matrix(rows);
    }

    // ---------------------------------------------------------------- expressions

    private int end;

    Expr expression(int from, int to) throws ParseException {
        int savedPos = pos, savedEnd = end;
        pos = from;
        end = to;
        try {
            Expr e = sum();
            if (pos != end) throw new ParseException("unexpected '" + tok(pos).text + "'");
            return e;
        } finally {
            pos = savedPos;
            end = savedEnd;
        }
    }

    private Token peek() {
        return pos < end ? tok(pos) : new Token(Kind.END, "");
    }

    private boolean accept(String sym) {
        if (peek().is(sym)) { pos++; return true; }
        return false;
    }

    private void expect(String sym) throws ParseException {
        if (!accept(sym)) throw new ParseException("expected '" + sym + "' but found '" + peek().text + "'");
    }

    private Expr sum() throws ParseException {
        Expr left = term();
        while (true) {
            if (accept("+")) left = new Expr.Add(left, term());
            else if (accept("-")) left = new Expr.Sub(left, term());
            else return left;
        }
    }

    private Expr term() throws ParseException {
        Expr left = unary();
        boolean first = true;
        while (true) {
            Token t = peek();
            if (accept("*")) left = new Expr.Mul(left, unary());
            else if (accept("/")) left = new Expr.Div(left, unary());
            else if (startsPrimary(t)) {
                // mixed number: 2\frac{1}{2} is 2 + 1/2
                // (-2\frac{1}{2} is -(2 + 1/2))
                Expr whole = left instanceof Expr.Neg ng ? ng.arg() : left;
                if (first && whole instanceof Expr.Num n && n.decimals() == 0 && t.is("\\frac")) {
                    Expr f = power();
                    if (f instanceof Expr.Div d && d.left() instanceof Expr.Num && d.right() instanceof Expr.Num) {
                        Expr mixed = new Expr.Add(whole, f);
                        left = left instanceof Expr.Neg ? new Expr.Neg(mixed) : mixed;
                    } else {
                        left = new Expr.Mul(left, f);
                    }
                } else {
                    left = new Expr.Mul(left, power());
                }
            } else return left;
            first = false;
        }
    }

    private boolean startsPrimary(Token t) {
        return switch (t.kind) {
            case NUM, IDENT -> true;
            case CMD -> true;
            case SYM -> t.text.equals("(") || t.text.equals("{") || t.text.equals("[");
            default -> false;
        };
    }

    private Expr unary() throws ParseException {
        if (accept("-")) return new Expr.Neg(unary());
        if (accept("+")) return unary();
        return power();
    }

    private Expr power() throws ParseException {
        Expr base = postfix();
        if (accept("^")) {
            Expr exp = exponentArg();
            return new Expr.Pow(base, exp);
        }
        return base;
    }

    private Expr exponentArg() throws ParseException {
        if (peek().is("{")) return group();
        if (accept("-")) return new Expr.Neg(exponentArg());
        Token t = peek();
        if (t.kind == Kind.NUM) {
            pos++;
            // x^23 in LaTeX is x^2 * 3; models write 2^10 meaning 2^{10}. Keep the whole number.
            return Expr.Num.parse(t.text);
        }
        return postfix();
    }

    private Expr postfix() throws ParseException {
        Expr e = primary();
        while (peek().is("!")) {
            pos++;
            e = new Expr.Func("factorial", e, null);
        }
        return e;
    }

    private Expr group() throws ParseException {
        Token open = peek();
        String close = switch (open.text) {
            case "{" -> "}";
            case "(" -> ")";
            case "[" -> "]";
            default -> throw new ParseException("expected a group");
        };
        int m = matching(pos, end);
        if (m < 0) throw new ParseException("unbalanced " + open.text);
        if (!tok(m).text.equals(close)) throw new ParseException("mismatched brackets");
        Expr e = expression(pos + 1, m);
        pos = m + 1;
        return e;
    }

    /** A LaTeX argument: {...} or a single token (\frac12, \sqrt3). */
    private Expr latexArg() throws ParseException {
        Token t = peek();
        if (t.is("{")) return group();
        if (t.kind == Kind.NUM) {
            pos++;
            // \frac12: each digit is one argument
            if (t.text.length() > 1 && !t.text.contains(".")) {
                tokens.set(pos - 1, new Token(Kind.NUM, t.text.substring(1)));
                pos--;
                return Expr.Num.parse(t.text.substring(0, 1));
            }
            return Expr.Num.parse(t.text);
        }
        return primary();
    }

    private Expr primary() throws ParseException {
        Token t = peek();
        switch (t.kind) {
            case NUM -> {
                pos++;
                return Expr.Num.parse(t.text);
            }
            case IDENT -> {
                pos++;
                if (t.text.equals("e")) return new Expr.Const("e", Math.E);
                return new Expr.Var(t.text);
            }
            case SYM -> {
                if (t.text.equals("(") || t.text.equals("{") || t.text.equals("[")) return group();
                if (t.text.equals("|")) {
                    pos++;
                    int depth = 0, k = pos;
                    for (; k < end; k++) {
                        Token u = tok(k);
                        if (u.is("(") || u.is("{") || u.is("[")) depth++;
                        else if (u.is(")") || u.is("}") || u.is("]")) depth--;
                        else if (u.is("|") && depth == 0) break;
                    }
                    if (k >= end) throw new ParseException("unclosed |");
                    Expr inner = expression(pos, k);
                    pos = k + 1;
                    return new Expr.Func("abs", inner, null);
                }
                throw new ParseException("unexpected '" + t.text + "'");
            }
            case CMD -> {
                pos++;
                return command(t.text);
            }
            default -> throw new ParseException("unexpected " + (t.kind == Kind.END ? "end" : "'" + t.text + "'"));
        }
    }

    private Expr command(String cmd) throws ParseException {
        switch (cmd) {
            case "\\frac" -> {
                Expr num = latexArg();
                Expr den = latexArg();
                return new Expr.Div(num, den);
            }
            case "\\binom" -> {
                Expr n = latexArg();
                Expr k = latexArg();
                return new Expr.Binom(n, k);
            }
            case "\\sqrt" -> {
                Expr index = Expr.Num.of(2);
                if (peek().is("[")) {
                    int m = matching(pos, end);
                    if (m < 0) throw new ParseException("unclosed [");
                    index = expression(pos + 1, m);
                    pos = m + 1;
                }
                return new Expr.Sqrt(latexArg(), index);
            }
            case "\\pi" -> { return new Expr.Const("pi", Math.PI); }
            case "\\infty", "\\infin" -> { return new Expr.Const("inf", Double.POSITIVE_INFINITY); }
            default -> { }
        }
        String name = cmd.substring(1);
        if (name.startsWith("arc") && FUNCTIONS.contains(name) || FUNCTIONS.contains(name)) {
            Expr base = null;
            if (accept("_")) base = latexArg();
            Expr power = null;
            if (accept("^")) power = exponentArg();
            Expr arg = functionArg();
            Expr f = new Expr.Func(name, arg, base);
            if (power != null) {
                // \sin^{-1} x is arcsin x
                if (power.exact() != null && power.exact().intValue() == -1 && power.exact().getDenominator().intValue() == 1
                        && Set.of("sin", "cos", "tan").contains(name)) {
                    return new Expr.Func("arc" + name, arg, null);
                }
                return new Expr.Pow(f, power);
            }
            return f;
        }
        if (Set.of("\\alpha", "\\beta", "\\gamma", "\\theta", "\\phi", "\\lambda", "\\mu", "\\sigma", "\\omega", "\\tau",
                "\\rho", "\\delta", "\\epsilon", "\\varepsilon", "\\psi", "\\eta", "\\zeta", "\\xi", "\\chi", "\\kappa", "\\nu",
                "\\varphi", "\\vartheta").contains(cmd)) {
            return new Expr.Var(cmd);
        }
        throw new ParseException("unknown command " + cmd);
    }

    /** Argument of \sin etc.: a parenthesised group, or a product of plain factors (\sin 2x). */
    private Expr functionArg() throws ParseException {
        Token t = peek();
        if (t.is("(") || t.is("{") || t.is("[")) return group();
        Expr arg = power();
        while (true) {
            Token u = peek();
            if (u.kind == Kind.NUM || u.kind == Kind.IDENT || (u.kind == Kind.CMD && !FUNCTIONS.contains(u.text.substring(1))
                    && !u.text.equals("\\sqrt") && !u.text.equals("\\frac"))) {
                arg = new Expr.Mul(arg, power());
            } else return arg;
        }
    }
}

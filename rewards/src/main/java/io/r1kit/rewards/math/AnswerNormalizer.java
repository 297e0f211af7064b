package io.r1kit.rewards.math;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * String-level clean-up of an extracted answer before parsing: delimiters, LaTeX spacing and
 * styling, text wrappers, currency, percent, units, thousands separators and decimal commas.
 * {@link #variants(String)} returns more than one reading when the text is ambiguous
 * ({@code 1,5} is a list or a decimal with a comma); the verifier accepts a match on any of them.
 */
public final class AnswerNormalizer {

    private AnswerNormalizer() { }

    private static final Set<String> TEXT_COMMANDS = Set.of("\\text", "\\textbf", "\\textit", "\\textnormal", "\\textrm",
            "\\mbox", "\\mathrm", "\\mathbf", "\\mathit", "\\operatorname", "\\textsf", "\\mathsf", "\\hbox", "\\boldsymbol",
            "\\mathbb", "\\mathcal", "\\textup", "\\emph", "\\overline", "\\underline");

    /** Words that end a number and carry no value: units, currencies, counted things' measures. */
    private static final Set<String> UNIT_WORDS = Set.of("cm", "mm", "km", "m", "kg", "g", "mg", "lb", "lbs", "oz", "l", "ml",
            "s", "sec", "secs", "min", "mins", "h", "hr", "hrs", "ft", "in", "yd", "mi", "mph", "kph", "kmh", "sq", "cu",
            "usd", "eur", "gbp", "rs", "inr", "pct");

    private static final Set<String> NOT_UNITS = Set.of("and", "or", "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln",
            "exp", "sqrt", "pi", "infty", "frac", "dfrac", "cup", "cap", "pm", "mod", "pmod", "bmod");

    private static final Pattern THOUSANDS = Pattern.compile("(?<![\\d.,])([1-9]\\d{0,2})((?:,\\d{3})+)(?![\\d])");
    private static final Pattern SPACE_THOUSANDS = Pattern.compile("^(-?[1-9]\\d{0,2})((?: \\d{3})+)(\\.\\d+)?$");
    private static final Pattern DECIMAL_COMMA = Pattern.compile("^(-?\\d+),(\\d+)$");
    private static final Pattern MIXED = Pattern.compile("^(-?)(\\d+)\\s+(\\d+)/(\\d+)$");
    private static final Pattern TRAILING_UNIT = Pattern.compile(
            "^(.*?[\\d})\\]])(\\s*)((?:square|sq\\.?|cubic)\\s+)?([A-Za-z]+)\\.?\\s*(\\^\\{?[23]\\}?|\\^\\{?\\d\\}?)?\\s*$");

    /** Candidate normal forms of an answer, most likely first. */
    public static List<String> variants(String raw) {
        String s = normalize(raw);
        List<String> out = new ArrayList<>();
        Matcher dc = DECIMAL_COMMA.matcher(s);
        if (dc.matches()) {
            String dec = dc.group(1) + "." + dc.group(2);
            // 1000,99 and 0,5 can only be decimals; 1,5 may be a list of two numbers.
            boolean onlyDecimal = dc.group(1).replace("-", "").length() > 3 || dc.group(1).replace("-", "").startsWith("0");
            out.add(dec);
            if (!onlyDecimal) out.add(s);
        } else {
            out.add(s);
        }
        return out;
    }

    /** The main normal form. */
    public static String normalize(String raw) {
        String s = raw.strip();
        s = stripDelimiters(s);
        String boxed = AnswerExtractor.lastBoxed(s);
        if (boxed != null) s = boxed;
        s = Rx.sub(s, ",\\\\!\\s*(?=\\d{3})", ",");
        // spacing commands (\! \, \; \: "\ "), but not a row break \\ followed by a space
        s = Rx.sub(Rx.sub(s, "(?<!\\\\)\\\\!", ""), "(?<!\\\\)\\\\[,;: ]", " ");
        s = s.replace("~", " ").replace("\\quad", " ").replace("\\qquad", " ").replace("\\displaystyle", " ")
                .replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
                .replace("\\$", " ").replace("$", " ").replace("€", " ").replace("£", " ").replace("¥", " ")
                .replace("{,}", ",").replace("\\%", " ").replace("%", " ")
                .replace("^\\circ", "").replace("^{\\circ}", "").replace("\\circ", "").replace("°", "").replace("\\degree", "")
                .replace("−", "-").replace("\u00a0", " ").replace("\\infin ", "\\infty ");
        s = Rx.sub(s, "\\\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)\\s*\\.", "");
        s = Rx.sub(s, "\\\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])", "");
        s = unwrapTextCommands(s);
        s = Rx.sub(s, "\\^\\{\\s*\\}", "");
        s = Rx.sub(s, "(?i)\\b(percentage|percent|per cent|pct)\\b", " ");
        s = Rx.sub(s, "(?i)\\b(dollars?|euros?|cents?|usd|eur)\\b", " ");
        s = Rx.sub(s, "\\s+", " ").strip();
        s = stripTrailingPunctuation(s);
        s = stripUnits(s);
        s = Rx.sub(s, "(?i)^(?:\\\\?text\\s*)?(?:the answer is|answer:?)\\s*", "");
        // "12 and 13" lists
        s = Rx.sub(s, "\\s+(?:and|or)\\s+", ", ");
        Matcher st = SPACE_THOUSANDS.matcher(s);
        if (st.matches()) s = st.group(1) + st.group(2).replace(" ", "") + (st.group(3) == null ? "" : st.group(3));
        s = mergeThousands(s);
        Matcher mixed = MIXED.matcher(s);
        if (mixed.matches()) s = mixed.group(1) + "(" + mixed.group(2) + "+" + mixed.group(3) + "/" + mixed.group(4) + ")";
        // multiple-choice "(C)" -> "C"
        if (Rx.matches(s, "\\(([A-Ea-e])\\)")) s = s.substring(1, 2);
        return s.strip();
    }

    /**
     * 7,425,000 -> 7425000. Not inside brackets right after the opening or before the closing one:
     * (12,102) is a pair, not twelve thousand.
     */
    private static String mergeThousands(String s) {
        Matcher m = THOUSANDS.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            char before = m.start() > 0 ? s.charAt(m.start() - 1) : ' ';
            char after = m.end() < s.length() ? s.charAt(m.end()) : ' ';
            boolean bracketed = "([{".indexOf(before) >= 0 || ")]}".indexOf(after) >= 0;
            m.appendReplacement(out, Matcher.quoteReplacement(bracketed ? m.group() : m.group(1) + m.group(2).replace(",", "")));
        }
        m.appendTail(out);
        return out.toString();
    }

    static String stripDelimiters(String s) {
        String prev;
        do {
            prev = s;
            s = s.strip();
            if (s.startsWith("$$") && s.endsWith("$$") && s.length() >= 4) s = s.substring(2, s.length() - 2);
            else if (s.startsWith("$") && s.endsWith("$") && s.length() >= 2) s = s.substring(1, s.length() - 1);
            else if (s.startsWith("\\(") && s.endsWith("\\)")) s = s.substring(2, s.length() - 2);
            else if (s.startsWith("\\[") && s.endsWith("\\]")) s = s.substring(2, s.length() - 2);
        } while (!s.equals(prev));
        return s;
    }

    private static String stripTrailingPunctuation(String s) {
        while (!s.isEmpty()) {
            if (s.endsWith("...")) return s;
            char c = s.charAt(s.length() - 1);
            if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' && s.length() > 1 && !Character.isDigit(s.charAt(s.length() - 2))
                    || c == ' ' || c == '?') {
                s = s.substring(0, s.length() - 1);
            } else return s;
        }
        return s;
    }

    private static String stripUnits(String s) {
        for (int guard = 0; guard < 4; guard++) {
            Matcher m = TRAILING_UNIT.matcher(s);
            if (!m.matches()) return s;
            String word = m.group(4);
            String lower = word.toLowerCase();
            int before = m.group(1).length() - 1;
            if (before >= 0 && before + 1 < s.length() && m.group(1).endsWith("\\")) return s;
            // a command like \pi or \infty is not a unit
            int wordStart = m.start(4);
            if (wordStart > 0 && s.charAt(wordStart - 1) == '\\') return s;
            if (NOT_UNITS.contains(lower)) return s;
            boolean knownUnit = UNIT_WORDS.contains(lower);
            boolean longWord = word.length() >= 3;
            boolean spaced = !m.group(2).isEmpty();
            boolean powered = m.group(5) != null;
            if (!(longWord || knownUnit && (word.length() >= 2 || spaced || powered))) return s;
            if (longWord && !knownUnit && !spaced && m.group(1).endsWith("}") == false && Character.isDigit(m.group(1).charAt(m.group(1).length() - 1)) == false) return s;
            s = m.group(1).strip();
        }
        return s;
    }

    /** \text{abc} -> abc (with spaces around so units and words stay separate). */
    static String unwrapTextCommands(String s) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            if (s.charAt(i) == '\\') {
                int j = i + 1;
                while (j < s.length() && Character.isLetter(s.charAt(j))) j++;
                String cmd = s.substring(i, j);
                if (TEXT_COMMANDS.contains(cmd)) {
                    int k = j;
                    while (k < s.length() && s.charAt(k) == ' ') k++;
                    if (k < s.length() && s.charAt(k) == '{') {
                        int close = AnswerExtractor.matchBrace(s, k);
                        if (close > 0) {
                            String inner = s.substring(k + 1, close);
                            boolean keepTight = cmd.startsWith("\\math") || cmd.equals("\\operatorname") || cmd.equals("\\boldsymbol");
                            out.append(keepTight ? inner : " " + inner + " ");
                            i = close + 1;
                            continue;
                        }
                    }
                }
                out.append(cmd);
                i = j;
                continue;
            }
            out.append(s.charAt(i));
            i++;
        }
        return out.toString();
    }
}

package io.r1kit.rewards.math;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the final answer in a completion. Candidates come in order of trust:
 * {@code <answer>…</answer>}, the last {@code \boxed{…}}/{@code \fbox{…}} (adjacent boxes are
 * joined into a list), GSM8K {@code #### N}, "the answer is …", the last LaTeX math span, then the
 * last number. The verifier uses the first candidate that parses.
 */
public final class AnswerExtractor {

    private AnswerExtractor() { }

    private static final Pattern ANSWER_TAG = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);
    private static final Pattern GSM8K = Pattern.compile("####\\s*([^\\n]+)");
    private static final Pattern ANSWER_IS = Pattern.compile(
            "(?i)(?:final answer|the answer|answer)\\s*(?:is|:|=)\\s*[:]?\\s*");
    private static final Pattern MATH_SPAN = Pattern.compile(
            "\\$\\$(.+?)\\$\\$|\\\\\\[(.+?)\\\\\\]|\\\\\\((.+?)\\\\\\)|(?<!\\\\)\\$((?:\\\\\\$|[^$\\n])+?)(?<!\\\\)\\$", Pattern.DOTALL);
    private static final Pattern NUMBER = Pattern.compile(
            "(?<![A-Za-z0-9_.\\\\])-?(?:\\d{1,3}(?:,\\d{3})+(?![\\d])|\\d+,\\d{1,2}(?![\\d,])|\\d+)(?:\\.\\d+)?(?:\\s*/\\s*\\d+)?(?![\\d])|(?<![A-Za-z0-9_.])-?\\.\\d+");
    private static final Pattern SENTENCE_END = Pattern.compile("\\.(?:\\s|$)|\\n|<\\|");

    /** Candidate answer strings from a completion, most trusted first (may be empty). */
    public static List<String> candidates(String completion) {
        List<String> out = new ArrayList<>();
        if (completion == null) return out;
        Matcher tag = ANSWER_TAG.matcher(completion);
        String tagged = null;
        while (tag.find()) tagged = tag.group(1);
        if (tagged != null) {
            String t = tagged.strip();
            String b = lastBoxed(t);
            if (b != null) out.add(b);
            out.add(t);
            out.addAll(textCandidates(t));
            return dedupe(out);
        }
        return dedupe(textCandidates(completion));
    }

    private static List<String> textCandidates(String text) {
        List<String> out = new ArrayList<>();
        String b = lastBoxed(text);
        String said = answerIs(text);
        // a "final answer is" after the last box overrides it (boxes of intermediate results)
        if (b != null && said != null && lastAnswerIsStart(text) > text.lastIndexOf("\\boxed")) {
            out.add(said);
            out.add(b);
        } else {
            if (b != null) out.add(b);
        }
        Matcher g = GSM8K.matcher(text);
        String gsm = null;
        while (g.find()) gsm = g.group(1).strip();
        if (gsm != null) out.add(gsm);
        if (said != null) out.add(said);
        Matcher m = MATH_SPAN.matcher(text);
        String lastSpan = null;
        int spanEnd = -1;
        while (m.find()) {
            for (int k = 1; k <= 4; k++) if (m.group(k) != null) { lastSpan = m.group(k); spanEnd = m.end(); }
        }
        Matcher nm = NUMBER.matcher(text);
        String num = null;
        int numStart = -1;
        while (nm.find()) { num = nm.group(); numStart = nm.start(); }
        // the final answer comes last: a number in the prose after the last math span wins over it
        boolean numberAfterSpan = num != null && numStart >= spanEnd;
        if (numberAfterSpan && lastSpan != null) out.add(num);
        if (lastSpan != null && !lastSpan.isBlank()) out.add(lastSpan.strip());
        // a bare short answer ("1 000", "\\frac{10}{9}") is its own candidate
        String whole = text.strip();
        if (!whole.isEmpty() && whole.length() <= 80 && whole.indexOf('\n') < 0) out.add(whole);
        if (num != null) out.add(num);
        return out;
    }

    private static int lastAnswerIsStart(String text) {
        Matcher m = ANSWER_IS.matcher(text);
        int start = -1;
        while (m.find()) start = m.start();
        return start;
    }

    /** What follows the last "the answer is" / "Final Answer:", up to the end of its sentence. */
    static String answerIs(String text) {
        Matcher m = ANSWER_IS.matcher(text);
        int start = -1;
        while (m.find()) start = m.end();
        if (start < 0) return null;
        // markdown around the phrase: "**Final Answer:** 5"
        String rest = Rx.sub(text.substring(start), "^[*_:\\s]+", "");
        // a math span right there is the answer
        Matcher span = MATH_SPAN.matcher(rest);
        if (span.find() && span.start() == 0) {
            for (int k = 1; k <= 4; k++) if (span.group(k) != null) return span.group(k).strip();
        }
        String b = lastBoxedPrefix(rest);
        if (b != null) return b;
        Matcher end = SENTENCE_END.matcher(rest);
        String sentence = end.find() ? rest.substring(0, end.start()) : rest;
        // "The largest $n$ is 34": the value after the last " is "
        int is = sentence.lastIndexOf(" is ");
        if (is >= 0 && !sentence.substring(0, is).isBlank() && !Character.isDigit(sentence.strip().charAt(0))) {
            sentence = sentence.substring(is + 4);
        }
        Matcher inner = MATH_SPAN.matcher(sentence);
        if (inner.find()) {
            for (int k = 1; k <= 4; k++) if (inner.group(k) != null) return inner.group(k).strip();
        }
        String s = sentence.strip();
        if (s.isEmpty()) return null;
        // prose after the value: keep the leading math-looking part
        if (Rx.matches(s, "(?s)^[^A-Za-z]*\\d.*") && Rx.matches(s, "(?s).*[A-Za-z]{4,}.*")) {
            String n = lastNumber(Rx.p("(?i)\\s(?:which|so|because|since|as|for|in)\\s").split(s)[0]);
            if (n != null) return n;
        }
        return s;
    }

    /** A \boxed{...} at the very start of the string (after spaces). */
    private static String lastBoxedPrefix(String s) {
        String t = s.stripLeading();
        if (t.startsWith("\\boxed") || t.startsWith("\\fbox")) return lastBoxed(t.substring(0, Math.min(t.length(), endOfFirstBox(t))));
        return null;
    }

    private static int endOfFirstBox(String t) {
        int open = t.indexOf('{');
        if (open < 0) return t.length();
        int close = matchBrace(t, open);
        return close < 0 ? t.length() : close + 1;
    }

    /** The last number in the text (with thousands separators and an optional /denominator). */
    public static String lastNumber(String text) {
        Matcher m = NUMBER.matcher(text);
        String last = null;
        while (m.find()) last = m.group();
        return last;
    }

    /**
     * Content of the last \boxed{…} or \fbox{…}; boxes separated only by spaces, commas, "and" or
     * \quad are joined with commas (a list answered one box per item). Null when there is none.
     */
    public static String lastBoxed(String s) {
        List<int[]> boxes = new ArrayList<>();
        int from = 0;
        while (true) {
            int b = indexOfBox(s, from);
            if (b < 0) break;
            int cmdEnd = s.indexOf(s.startsWith("\\boxed", b) ? "\\boxed" : "\\fbox", b) + (s.startsWith("\\boxed", b) ? 6 : 5);
            int k = cmdEnd;
            while (k < s.length() && s.charAt(k) == ' ') k++;
            if (k < s.length() && s.charAt(k) == '{') {
                int close = matchBrace(s, k);
                if (close < 0) {
                    boxes.add(new int[] {k + 1, s.length(), s.length()});
                    break;
                }
                boxes.add(new int[] {k + 1, close, close + 1});
                from = close + 1;
            } else {
                // "\boxed 5"
                int e = k;
                while (e < s.length() && !Character.isWhitespace(s.charAt(e)) && s.charAt(e) != '$') e++;
                if (e > k) boxes.add(new int[] {k, e, e});
                from = Math.max(e, cmdEnd);
            }
        }
        if (boxes.isEmpty()) return null;
        int last = boxes.size() - 1;
        List<String> joined = new ArrayList<>();
        joined.add(s.substring(boxes.get(last)[0], boxes.get(last)[1]));
        for (int i = last - 1; i >= 0; i--) {
            String between = s.substring(boxes.get(i)[2], boxes.get(i + 1)[0]);
            between = Rx.sub(between, "\\\\boxed\\s*\\{?$|\\\\fbox\\s*\\{?$", "");
            if (!Rx.matches(between, "(?s)[\\s,$]*(?:\\\\quad|\\\\qquad|\\\\text\\{\\s*and\\s*\\}|and|,|\\\\\\]|\\\\\\[|\\$|\\s)*")) break;
            joined.add(0, s.substring(boxes.get(i)[0], boxes.get(i)[1]));
        }
        return String.join(", ", joined).strip();
    }

    private static int indexOfBox(String s, int from) {
        int a = s.indexOf("\\boxed", from), b = s.indexOf("\\fbox", from);
        if (a < 0) return b;
        if (b < 0) return a;
        return Math.min(a, b);
    }

    /** Index of the } matching the { at {@code open}, or -1. */
    public static int matchBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) { i++; continue; }
            if (c == '{') depth++;
            else if (c == '}') {
                depth--;
                if (depth == 0) return i;
            }
        }
        return -1;
    }

    /**
     * The gold answer from a dataset column: a GSM8K solution ({@code … #### N}), a boxed
     * solution, or a plain value with or without {@code $…$}.
     */
    public static List<String> goldCandidates(String answer) {
        List<String> out = new ArrayList<>();
        if (answer == null) return out;
        Matcher g = GSM8K.matcher(answer);
        String gsm = null;
        while (g.find()) gsm = g.group(1).strip();
        if (gsm != null) out.add(gsm);
        String b = lastBoxed(answer);
        if (b != null) out.add(b);
        out.add(answer.strip());
        out.addAll(textCandidates(answer));
        return dedupe(out);
    }

    private static List<String> dedupe(List<String> in) {
        List<String> out = new ArrayList<>();
        for (String s : in) if (s != null && !s.isBlank() && !out.contains(s)) out.add(s);
        return out;
    }
}

package io.r1kit.model.tokenizer;

/**
 * Source rewrites that make Python-Jinja2 chat templates parse the same way under Jinjava. Only
 * the code inside {@code {{ }}} and {@code {% %}} is touched, never text or string literals.
 *
 * <ul>
 *   <li>Whitespace: transformers renders with {@code trim_blocks} and {@code lstrip_blocks}, and
 *       templates use {@code {{- -}}} / {@code {%- -%}}. Jinjava ignores the dashes on
 *       expressions and its lstrip also eats spaces in the middle of a line, so all whitespace
 *       control is applied here with Jinja2's rules (including {@code +}), and Jinjava sees
 *       templates without any. Comments are removed here too. As in Jinja2, line endings
 *       become {@code \n} and a single trailing newline is dropped.</li>
 *   <li>{@code }}} closing nested dict literals inside {@code {{ }}} is split, since Jinjava would
 *       end the tag there.</li>
 *   <li>Slices with a step, {@code x[::-1]} or {@code x[a:b:c]}, which Jinjava's parser rejects,
 *       become {@code __r1_slice(x, a, b, c)} (Python slice semantics, see {@link PyFunctions}).</li>
 *   <li>Printed values go through {@code __r1_str} so booleans, None and containers print as
 *       Python's {@code str()} does ({@code True}, not {@code true}).</li>
 *   <li>Loop filters ({@code for x in xs if cond}), silently ignored by Jinjava, are rewritten
 *       to loop over the items that pass.</li>
 *   <li>Keyword-argument values are parenthesised, {@code f(k=a - 1)} to {@code f(k=(a - 1))}:
 *       Jinjava binds {@code k=a} tighter than the arithmetic, Python binds the whole expression.</li>
 * </ul>
 */
final class JinjaCompat {

    static final String SLICE_FUNCTION = "__r1_slice";
    static final String STR_FUNCTION = "__r1_str";

    private JinjaCompat() {}

    static String rewrite(String source) {
        // Jinja2 defaults: line endings normalised to \n, and one trailing newline dropped (keep_trailing_newline=False).
        String template = source.replace("\r\n", "\n").replace('\r', '\n');
        if (template.endsWith("\n")) template = template.substring(0, template.length() - 1);
        StringBuilder out = new StringBuilder(template.length() + 64);
        int i = 0, n = template.length();
        boolean lineStart = true;     // the next text starts a line (template start, or right after a consumed newline)
        boolean trimNewline = false;  // trim_blocks: drop one newline right after a block tag
        boolean stripLeading = false; // the previous tag ended with '-': drop all leading whitespace
        int loopFilters = 0;
        while (i < n) {
            int open = nextOpen(template, i);
            String text = template.substring(i, open < 0 ? n : open);
            if (stripLeading) {
                String kept = text.stripLeading();
                String dropped = text.substring(0, text.length() - kept.length());
                text = kept;
                lineStart = dropped.endsWith("\n") || dropped.endsWith("\r");
            } else if (trimNewline) {
                int cut = text.startsWith("\r\n") ? 2 : text.startsWith("\n") || text.startsWith("\r") ? 1 : 0;
                text = text.substring(cut);
                lineStart = cut > 0;
            }
            boolean segmentStartsLine = lineStart;
            stripLeading = trimNewline = lineStart = false;
            if (open < 0) {
                out.append(text);
                break;
            }
            char kind = template.charAt(open + 1);
            boolean blockLike = kind == '%' || kind == '#';
            char left = open + 2 < n ? template.charAt(open + 2) : ' ';
            if (left == '-') text = text.stripTrailing();
            else if (blockLike && left != '+') text = lstripBlock(text, segmentStartsLine);
            out.append(text);

            if (kind == '#') { // comments are dropped here, after their whitespace rules are applied
                int end = template.indexOf("#}", open + 2);
                if (end < 0) { // unterminated: leave it for Jinjava to report
                    out.append(template, open, n);
                    break;
                }
                char right = template.charAt(end - 1);
                i = end + 2;
                stripLeading = right == '-' && end - 1 > open + 1;
                trimNewline = !stripLeading && right != '+';
                continue;
            }
            String close = kind == '{' ? "}}" : "%}";
            int end = findClose(template, open + 2, close);
            if (end < 0) { // unterminated: leave it for Jinjava to report
                out.append(template, open, n);
                break;
            }
            int codeStart = open + 2, codeEnd = end;
            if (left == '-' || (blockLike && left == '+')) codeStart++;
            char right = codeEnd > codeStart ? template.charAt(codeEnd - 1) : ' ';
            boolean minusRight = right == '-';
            boolean keepRight = kind == '%' && right == '+';
            if (minusRight || keepRight) codeEnd--;
            String code = template.substring(codeStart, codeEnd);
            String stripped = code.strip();
            if (kind == '%' && (stripped.equals("raw") || stripped.startsWith("raw "))) {
                // Verbatim up to {% endraw %}; whitespace control inside raw blocks is not emulated.
                int endRaw = template.indexOf("endraw", end);
                int endTag = endRaw < 0 ? -1 : template.indexOf("%}", endRaw);
                int stop = endTag < 0 ? n : endTag + 2;
                out.append("{%").append(code).append("%}").append(template, end + 2, stop);
                i = stop;
                trimNewline = true;
                continue;
            }
            if (kind == '%' && stripped.startsWith("for ")) {
                String filtered = rewriteLoopFilter(stripped, "__r1_loop" + loopFilters);
                if (filtered != null) {
                    loopFilters++;
                    out.append(filtered);
                    i = end + 2;
                    stripLeading = minusRight;
                    trimNewline = !minusRight && !keepRight;
                    continue;
                }
            }
            boolean macro = kind == '%' && (stripped.startsWith("macro") || stripped.startsWith("call"));
            String rewritten = separateClosingBraces(rewriteSlices(code));
            if (!macro) rewritten = rewriteKeywordArgs(rewritten);
            if (kind == '{') rewritten = printAsPython(rewritten);
            out.append(template, open, open + 2).append(rewritten).append(close);
            i = end + 2;
            stripLeading = minusRight;
            trimNewline = kind == '%' && !minusRight && !keepRight;
        }
        return out.toString();
    }

    /**
     * Jinja2 loop filters, {@code for x in xs if cond}, which Jinjava ignores (it would loop over all
     * items). Rewritten to collect the passing items first, so {@code loop.index}/{@code loop.last}
     * count only those, as in Jinja2. Returns null when the tag has no filter.
     */
    static String rewriteLoopFilter(String forCode, String listName) {
        String s = forCode.strip();
        int in = indexOfWord(s, "in", 4);
        if (in < 0) return null;
        String target = s.substring(3, in).strip();
        String rest = s.substring(in + 2);
        int cond = indexOfWord(rest, "if", 0);
        if (cond < 0) return null;
        String iter = rest.substring(0, cond).strip();
        String condition = rest.substring(cond + 2).strip();
        if (condition.endsWith(" recursive")) throw new IllegalArgumentException("recursive filtered loops are not supported: " + s);
        String item = target.contains(",") ? "[" + target + "]" : target;
        return "{% set " + listName + " = [] %}"
                + "{% for " + target + " in " + code(iter) + " %}{% if " + code(condition) + " %}{% do " + listName + ".append(" + item
                + ") %}{% endif %}{% endfor %}"
                + "{% for " + target + " in " + listName + " %}";
    }

    private static String code(String expr) {
        return rewriteKeywordArgs(separateClosingBraces(rewriteSlices(expr)));
    }

    /** Index of {@code word} as a whole word at bracket depth 0 and outside strings, or -1. */
    private static int indexOfWord(String s, String word, int from) {
        int depth = 0, i = from;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(s, i);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            else if (depth == 0 && s.startsWith(word, i)
                    && (i == 0 || !isIdentifierChar(s.charAt(i - 1)))
                    && (i + word.length() >= s.length() || !isIdentifierChar(s.charAt(i + word.length())))) {
                return i;
            }
            i++;
        }
        return -1;
    }

    private static boolean isIdentifierChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** {@code {{ e }}} to {@code {{ __r1_str(e) }}}. */
    private static String printAsPython(String code) {
        if (code.isBlank()) return code;
        return " " + STR_FUNCTION + "(" + code.strip() + ") ";
    }

    /** lstrip_blocks: spaces and tabs between the start of a line and a block tag are removed. */
    private static String lstripBlock(String text, boolean segmentStartsLine) {
        int k = text.length();
        while (k > 0 && (text.charAt(k - 1) == ' ' || text.charAt(k - 1) == '\t')) k--;
        if (k == text.length()) return text;
        if (k > 0 ? text.charAt(k - 1) == '\n' || text.charAt(k - 1) == '\r' : segmentStartsLine) return text.substring(0, k);
        return text;
    }

    /** {@code }}} inside an expression (nested dict literals) would end a Jinjava {@code {{ }}} tag early. */
    private static String separateClosingBraces(String code) {
        StringBuilder sb = new StringBuilder(code.length());
        int i = 0;
        while (i < code.length()) {
            char c = code.charAt(i);
            if (c == '\'' || c == '"') {
                int e = skipString(code, i);
                sb.append(code, i, e);
                i = e;
                continue;
            }
            sb.append(c);
            if (c == '}' && i + 1 < code.length() && code.charAt(i + 1) == '}') sb.append(' ');
            i++;
        }
        return sb.toString();
    }

    /** Index of the closing delimiter at bracket depth 0, skipping string literals. */
    private static int findClose(String s, int from, String close) {
        int i = from, depth = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(s, i);
                continue;
            }
            if (depth <= 0 && s.startsWith(close, i)) return i;
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            i++;
        }
        return -1;
    }

    private static int nextOpen(String s, int from) {
        for (int i = from; i + 1 < s.length(); i++) {
            if (s.charAt(i) == '{') {
                char c = s.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') return i;
            }
        }
        return -1;
    }

    /** Index just past the string literal starting at {@code i}. */
    private static int skipString(String s, int i) {
        char q = s.charAt(i);
        int j = i + 1;
        while (j < s.length()) {
            char c = s.charAt(j);
            if (c == '\\') {
                j += 2;
                continue;
            }
            if (c == q) return j + 1;
            j++;
        }
        return s.length();
    }

    /** Index of the bracket closing the one at {@code i}, or -1. */
    private static int matchForward(String s, int i) {
        int depth = 0;
        int j = i;
        while (j < s.length()) {
            char c = s.charAt(j);
            if (c == '\'' || c == '"') {
                j = skipString(s, j);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') {
                depth--;
                if (depth == 0) return j;
            }
            j++;
        }
        return -1;
    }

    /** Start of the primary expression ending just before {@code end} (identifiers, dots, calls, subscripts, literals). */
    private static int primaryStart(String s, int end) {
        int j = end - 1;
        while (j >= 0) {
            char c = s.charAt(j);
            if (Character.isLetterOrDigit(c) || c == '_' || c == '.') {
                j--;
            } else if (c == ')' || c == ']') {
                int k = matchBackward(s, j);
                if (k < 0) return -1;
                j = k - 1;
            } else if (c == '\'' || c == '"') {
                int k = s.lastIndexOf(c, j - 1);
                if (k < 0) return -1;
                j = k - 1;
            } else {
                break;
            }
        }
        return j + 1;
    }

    private static int matchBackward(String s, int i) {
        char close = s.charAt(i);
        char open = close == ')' ? '(' : '[';
        int depth = 0;
        for (int j = i; j >= 0; j--) {
            char c = s.charAt(j);
            if (c == close) depth++;
            else if (c == open) {
                depth--;
                if (depth == 0) return j;
            }
        }
        return -1;
    }

    /** Rewrites every subscript with two top-level colons into a slice function call. */
    static String rewriteSlices(String code) {
        String s = code;
        int from = 0;
        while (true) {
            int b = indexOfOutsideStrings(s, '[', from);
            if (b < 0) return s;
            int close = matchForward(s, b);
            if (close < 0) return s;
            boolean subscript = b > 0 && isPrimaryEnd(s.charAt(b - 1));
            String inner = s.substring(b + 1, close);
            java.util.List<String> parts = splitTopLevel(inner, ':');
            if (!subscript || parts.size() != 3) {
                from = b + 1;
                continue;
            }
            int start = primaryStart(s, b);
            if (start < 0 || start == b) {
                from = b + 1;
                continue;
            }
            String target = s.substring(start, b);
            String call = SLICE_FUNCTION + "(" + target + ", " + orNone(parts.get(0)) + ", " + orNone(parts.get(1)) + ", "
                    + orNone(parts.get(2)) + ")";
            s = s.substring(0, start) + call + s.substring(close + 1);
            from = start; // the arguments may contain further slices
            if (from >= s.length()) return s;
            // Skip past the function name so the same '[' is not found again inside the target.
            from = start + SLICE_FUNCTION.length();
        }
    }

    private static boolean isPrimaryEnd(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == ')' || c == ']' || c == '\'' || c == '"';
    }

    private static String orNone(String part) {
        String p = part.strip();
        return p.isEmpty() ? "none" : p;
    }

    private static int indexOfOutsideStrings(String s, char target, int from) {
        int i = from;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(s, i);
                continue;
            }
            if (c == target) return i;
            i++;
        }
        return -1;
    }

    /** Splits on {@code sep} at nesting depth 0, outside strings. */
    static java.util.List<String> splitTopLevel(String s, char sep) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        int depth = 0, last = 0, i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(s, i);
                continue;
            }
            if (c == '(' || c == '[' || c == '{') depth++;
            else if (c == ')' || c == ']' || c == '}') depth--;
            else if (c == sep && depth == 0) {
                parts.add(s.substring(last, i));
                last = i + 1;
            }
            i++;
        }
        parts.add(s.substring(last));
        return parts;
    }

    /** Parenthesises the value of every {@code name=value} argument inside parentheses. */
    static String rewriteKeywordArgs(String code) {
        StringBuilder out = new StringBuilder(code.length() + 16);
        int i = 0;
        while (i < code.length()) {
            char c = code.charAt(i);
            if (c == '\'' || c == '"') {
                int e = skipString(code, i);
                out.append(code, i, e);
                i = e;
                continue;
            }
            if (c == '(') {
                int close = matchForward(code, i);
                if (close < 0) {
                    out.append(code.substring(i));
                    break;
                }
                String inner = code.substring(i + 1, close);
                java.util.List<String> args = splitTopLevel(inner, ',');
                out.append('(');
                for (int a = 0; a < args.size(); a++) {
                    if (a > 0) out.append(',');
                    out.append(rewriteArgument(args.get(a)));
                }
                out.append(')');
                i = close + 1;
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static String rewriteArgument(String arg) {
        java.util.regex.Matcher m = KWARG.matcher(arg);
        if (m.lookingAt()) {
            String value = arg.substring(m.end());
            String trimmed = value.strip();
            String inner = rewriteKeywordArgs(value);
            if (trimmed.isEmpty()) return arg;
            return arg.substring(0, m.end()) + "(" + inner.strip() + ")";
        }
        return rewriteKeywordArgs(arg);
    }

    private static final java.util.regex.Pattern KWARG = java.util.regex.Pattern.compile("\\s*[A-Za-z_][A-Za-z0-9_]*\\s*=(?!=)");
}

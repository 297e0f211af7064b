package io.r1kit.data.template;

import io.r1kit.data.ChatMessage;
import io.r1kit.data.DatasetException;
import io.r1kit.data.Example;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain text template with {@code {column}} placeholders, e.g. {@code "Question: {prompt}\nAnswer:"},
 * and an optional system prompt placed before it (followed by a blank line) in the plain rendering and
 * as a system message in the chat rendering. {@code {{} and {@code }}} are literal braces; a brace not
 * around a column name ({@code [A-Za-z_][A-Za-z0-9_]*}) is literal too, so JSON in templates is fine.
 *
 * <p>The user turn for chat rendering is {@link #userTemplate()} (default: the same text).
 */
public final class ColumnTemplate implements PromptTemplate {
    private final String template;
    private final String system;
    private final String userTemplate;
    private final List<Object> parts; // String literal or Placeholder

    private record Placeholder(String column) {}

    public ColumnTemplate(String template) {
        this(template, null, null);
    }

    public ColumnTemplate(String template, String systemPrompt) {
        this(template, systemPrompt, null);
    }

    /** {@code userTemplate} is what goes into the user message for chat rendering (null: {@code template}). */
    public ColumnTemplate(String template, String systemPrompt, String userTemplate) {
        this.template = template;
        this.system = systemPrompt == null || systemPrompt.isEmpty() ? null : systemPrompt;
        this.userTemplate = userTemplate == null ? template : userTemplate;
        this.parts = parse(template);
    }

    public String template() { return template; }
    public String systemPrompt() { return system; }
    public String userTemplate() { return userTemplate; }

    /** Column names the template needs, in order of appearance. */
    public List<String> columns() {
        List<String> out = new ArrayList<>();
        for (Object p : parts) if (p instanceof Placeholder ph && !out.contains(ph.column())) out.add(ph.column());
        return out;
    }

    @Override
    public String render(Example example) {
        String body = substitute(parts, example, template);
        return system == null ? body : system + "\n\n" + body;
    }

    @Override
    public List<ChatMessage> messages(Example example) {
        List<ChatMessage> out = new ArrayList<>(2);
        if (system != null) out.add(ChatMessage.system(system));
        out.add(ChatMessage.user(userTemplate == template ? substitute(parts, example, template)
                : substitute(parse(userTemplate), example, userTemplate)));
        return out;
    }

    /** Substitutes {@code {column}} in any text; useful for one-off strings. */
    public static String fill(String template, Example example) {
        return substitute(parse(template), example, template);
    }

    private static String substitute(List<Object> parts, Example example, String template) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            if (p instanceof Placeholder(String column)) {
                if (!example.has(column)) {
                    throw new DatasetException("template \"" + abbreviate(template) + "\" needs column '" + column
                            + "' but example '" + example.id() + "' has only " + example.columns().keySet());
                }
                sb.append(example.getString(column));
            } else {
                sb.append((String) p);
            }
        }
        return sb.toString();
    }

    static List<Object> parse(String t) {
        List<Object> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (c == '{' && i + 1 < t.length() && t.charAt(i + 1) == '{') {
                lit.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < t.length() && t.charAt(i + 1) == '}') {
                lit.append('}');
                i += 2;
            } else if (c == '{') {
                int close = t.indexOf('}', i + 1);
                String name = close < 0 ? null : t.substring(i + 1, close);
                if (name != null && name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                    if (!lit.isEmpty()) parts.add(lit.toString());
                    lit.setLength(0);
                    parts.add(new Placeholder(name));
                    i = close + 1;
                } else {
                    lit.append(c);
                    i++;
                }
            } else {
                lit.append(c);
                i++;
            }
        }
        if (!lit.isEmpty()) parts.add(lit.toString());
        return parts;
    }

    private static String abbreviate(String s) {
        String one = s.replace("\n", "\\n");
        return one.length() <= 60 ? one : one.substring(0, 57) + "...";
    }

    @Override
    public String toString() {
        return "ColumnTemplate[" + abbreviate(template) + "]";
    }
}

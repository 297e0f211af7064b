package io.r1kit.data.loaders;

import io.r1kit.data.Dataset;
import io.r1kit.data.DatasetException;
import io.r1kit.data.DatasetReader;
import io.r1kit.data.Example;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * MATH-style records ({@code problem}, {@code solution} containing {@code \boxed{...}}, {@code level},
 * {@code type}). Each example keeps every column and gets {@code prompt} (= problem) and {@code answer}
 * (the content of the last {@code \boxed{}} or {@code \fbox{}} in the solution, nested braces kept).
 */
public final class MathProblems {
    private MathProblems() {}

    public static Dataset load(Path file) {
        Dataset raw = Dataset.read(new DatasetReader(file, null, Map.of(), false, "id"));
        return new Dataset(raw.stream().map(e -> convert(e, file)).toList(), raw.report());
    }

    public static Example convert(Example raw, Path file) {
        String problem, solution;
        try {
            problem = raw.getString("problem");
            solution = raw.getString("solution");
        } catch (DatasetException e) {
            throw file == null ? e : new DatasetException(file + ": " + e.getMessage(), e);
        }
        String boxed = lastBoxed(solution);
        if (boxed == null) {
            throw new DatasetException((file == null ? "" : file + ": ") + "MATH example '" + raw.id()
                    + "' has no \\boxed{...} answer in its solution");
        }
        Map<String, Object> cols = new LinkedHashMap<>(raw.columns());
        cols.put(Example.PROMPT, problem);
        cols.put(Example.ANSWER, boxed);
        return new Example(raw.id(), cols);
    }

    /**
     * The content of the last {@code \boxed{...}} (or {@code \fbox{...}}) with balanced braces, or
     * {@code \boxed 5} (the brace-less form) up to the next space or {@code $}; null if there is none
     * or its braces never close.
     */
    public static String lastBoxed(String text) {
        int at = Math.max(text.lastIndexOf("\\boxed"), text.lastIndexOf("\\fbox"));
        if (at < 0) return null;
        int i = at + (text.startsWith("\\boxed", at) ? 6 : 5);
        if (i < text.length() && text.charAt(i) == ' ') {
            int end = i + 1;
            while (end < text.length() && text.charAt(end) != '$' && !Character.isWhitespace(text.charAt(end))) end++;
            String s = text.substring(i + 1, end);
            return s.isEmpty() ? null : s;
        }
        if (i >= text.length() || text.charAt(i) != '{') return null;
        int depth = 0;
        for (int j = i; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '\\' && j + 1 < text.length()) {
                j++; // an escaped brace \{ does not count
                continue;
            }
            if (c == '{') depth++;
            else if (c == '}' && --depth == 0) return text.substring(i + 1, j);
        }
        return null;
    }
}

package io.r1kit.rewards;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One completion to score, with everything a reward may look at.
 *
 * @param exampleId    id of the dataset example (used in error messages); never null
 * @param prompt       prompt text as the model saw it (may be empty)
 * @param text         completion text
 * @param tokenIds     completion token ids (may be empty when not known, e.g. from a JSONL file)
 * @param finishReason "stop", "length", ... (may be null when not known)
 * @param columns      the example's dataset columns: answer, target, nums, language, ...
 */
public record Completion(String exampleId, String prompt, String text, int[] tokenIds, String finishReason,
                         Map<String, Object> columns) {

    public Completion {
        exampleId = exampleId == null ? "?" : exampleId;
        prompt = prompt == null ? "" : prompt;
        text = text == null ? "" : text;
        tokenIds = tokenIds == null ? new int[0] : tokenIds;
        columns = columns == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(columns));
    }

    /** A completion with only text and columns (tests, the reward command). */
    public static Completion of(String text, Map<String, Object> columns) {
        return new Completion("?", "", text, new int[0], null, columns);
    }

    /** A dataset column, or null. */
    public Object column(String name) {
        return columns.get(name);
    }

    /** A dataset column as a string (numbers and lists are printed), or null. */
    public String columnString(String name) {
        Object v = columns.get(name);
        if (v == null) return null;
        if (v instanceof List<?> l) return l.toString();
        return String.valueOf(v);
    }

    /** Length in tokens: the token ids when known, else a whitespace word count as a stand-in. */
    public int lengthInTokens() {
        if (tokenIds.length > 0) return tokenIds.length;
        String t = text.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    @Override
    public String toString() {
        return "Completion[" + exampleId + ", " + text.length() + " chars, " + tokenIds.length + " tokens, finish="
                + finishReason + ", columns=" + columns.keySet() + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Completion c && exampleId.equals(c.exampleId) && prompt.equals(c.prompt) && text.equals(c.text)
                && Arrays.equals(tokenIds, c.tokenIds) && java.util.Objects.equals(finishReason, c.finishReason)
                && columns.equals(c.columns);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(exampleId, prompt, text, Arrays.hashCode(tokenIds), finishReason, columns);
    }
}

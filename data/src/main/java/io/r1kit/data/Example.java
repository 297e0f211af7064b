package io.r1kit.data;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One dataset row: an id and every column of the source record, in source order, plus any mapped
 * (canonical) columns. Values are what JSON gives: String, Integer/Long/Double, Boolean, List, Map.
 * Rewards read whatever columns they need (e.g. {@code answer}, {@code nums}, {@code target}).
 */
public record Example(String id, Map<String, Object> columns) {

    /** Canonical column names used across r1kit. */
    public static final String PROMPT = "prompt";
    public static final String ANSWER = "answer";
    public static final String MESSAGES = "messages";

    public Example {
        Objects.requireNonNull(id, "id");
        columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
    }

    public boolean has(String column) {
        return columns.get(column) != null;
    }

    public Object get(String column) {
        return columns.get(column);
    }

    /** A column as text: strings as they are, numbers and booleans printed; error if absent or structured. */
    public String getString(String column) {
        Object v = columns.get(column);
        if (v == null) {
            throw new DatasetException("example '" + id + "' has no column '" + column + "' (it has " + columns.keySet() + ")");
        }
        if (v instanceof String s) return s;
        if (v instanceof Number || v instanceof Boolean) return String.valueOf(v);
        throw new DatasetException("example '" + id + "': column '" + column + "' is " + ChatMessage.describe(v)
                + ", expected text");
    }

    public Optional<String> optString(String column) {
        return has(column) ? Optional.of(getString(column)) : Optional.empty();
    }

    public int getInt(String column) {
        Object v = columns.get(column);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new DatasetException("example '" + id + "': column '" + column + "' is " + ChatMessage.describe(v)
                + ", expected an integer");
    }

    /** True when the example is in chat format (has a {@code messages} column). */
    public boolean isChat() {
        return has(MESSAGES);
    }

    public List<ChatMessage> messages() {
        try {
            return ChatMessage.parseList(columns.get(MESSAGES));
        } catch (IllegalArgumentException e) {
            throw new DatasetException("example '" + id + "': " + e.getMessage());
        }
    }

    /** A copy with one column set (added at the end if new). */
    public Example with(String column, Object value) {
        Map<String, Object> m = new LinkedHashMap<>(columns);
        m.put(column, value);
        return new Example(id, m);
    }
}

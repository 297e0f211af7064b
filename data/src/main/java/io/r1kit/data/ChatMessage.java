package io.r1kit.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** One turn of a chat-format example: {@code {"role": "user", "content": "..."}}. */
public record ChatMessage(String role, String content) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage system(String content) { return new ChatMessage(SYSTEM, content); }
    public static ChatMessage user(String content) { return new ChatMessage(USER, content); }
    public static ChatMessage assistant(String content) { return new ChatMessage(ASSISTANT, content); }

    /** The JSON shape: an ordered map with role then content, as chat templates expect. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /**
     * Parses a {@code messages} column value (a list of maps with string {@code role} and {@code content}).
     * Throws {@link IllegalArgumentException} saying which entry is wrong.
     */
    public static List<ChatMessage> parseList(Object value) {
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("'messages' must be an array of {role, content} objects, got "
                    + describe(value));
        }
        if (list.isEmpty()) throw new IllegalArgumentException("'messages' is empty");
        ChatMessage[] out = new ChatMessage[list.size()];
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException("messages[" + i + "] must be an object, got " + describe(list.get(i)));
            }
            if (!(m.get("role") instanceof String role)) {
                throw new IllegalArgumentException("messages[" + i + "].role must be a string, got " + describe(m.get("role")));
            }
            if (!(m.get("content") instanceof String content)) {
                throw new IllegalArgumentException("messages[" + i + "].content must be a string, got "
                        + describe(m.get("content")));
            }
            out[i] = new ChatMessage(role, content);
        }
        return List.of(out);
    }

    static String describe(Object v) {
        if (v == null) return "nothing";
        if (v instanceof List<?>) return "an array";
        if (v instanceof Map<?, ?>) return "an object";
        if (v instanceof String) return "a string";
        if (v instanceof Number) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return v.getClass().getSimpleName();
    }
}

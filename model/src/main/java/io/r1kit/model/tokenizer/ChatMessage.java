package io.r1kit.model.tokenizer;

/** One chat turn: role ({@code system}, {@code user}, {@code assistant}, {@code tool}) and text. */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        if (role == null || role.isEmpty()) throw new IllegalArgumentException("role must be set");
        if (content == null) throw new IllegalArgumentException("content must not be null (use \"\")");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage("system", content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage("user", content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage("assistant", content);
    }
}

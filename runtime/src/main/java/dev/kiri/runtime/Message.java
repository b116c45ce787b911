package dev.kiri.runtime;

import java.util.Map;
import java.util.Objects;

/**
 * One chat message: a role ({@code "system"}, {@code "user"}, {@code "assistant"}, or what the
 * model's template knows) and its text.
 */
public record Message(String role, String content) {
    public Message {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static Message system(String content) {
        return new Message("system", content);
    }

    public static Message user(String content) {
        return new Message("user", content);
    }

    public static Message assistant(String content) {
        return new Message("assistant", content);
    }

    /** The message as the chat templates see it: {@code {"role": ..., "content": ...}}. */
    public Map<String, Object> toMap() {
        return Map.of("role", role, "content", content);
    }
}

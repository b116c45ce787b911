package dev.kiri.runtime.chat;

/**
 * A chat template could not be rendered: a syntax error, a {@code raise_exception(...)} call in
 * the template (the message is the template's own), an unknown filter or function, or an error
 * while evaluating an expression. The message names the template and says what went wrong.
 */
public final class ChatTemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean raisedByTemplate;

    /** An error found by the engine (syntax, unknown filter, evaluation). */
    public ChatTemplateException(String message) {
        this(message, false, null);
    }

    /** An error found by the engine, with its cause. */
    public ChatTemplateException(String message, Throwable cause) {
        this(message, false, cause);
    }

    private ChatTemplateException(String message, boolean raisedByTemplate, Throwable cause) {
        super(message, cause);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** The template itself called {@code raise_exception(message)}; the message is exactly the template's. */
    static ChatTemplateException raised(String message) {
        return new ChatTemplateException(message, true, null);
    }

    /**
     * Whether the template itself raised this error with {@code raise_exception(...)} (for example
     * "Conversation roles must alternate user/assistant/user/assistant/..."); the message is then
     * exactly the text the template passed.
     */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}

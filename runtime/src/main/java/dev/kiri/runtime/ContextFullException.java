package dev.kiri.runtime;

/**
 * Tokens that do not fit in the KV cache: the context length in use is exhausted. Load the model
 * with a longer context ({@link LoadOptions#contextLength}, up to the model's own) or shorten the
 * input.
 */
public final class ContextFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ContextFullException(int cached, int adding, int capacity) {
        super(cached == 0
                ? adding + " tokens do not fit in the context length of " + capacity
                        + " (load the model with a longer context, up to the model's own, or shorten the input)"
                : "context full: " + cached + " tokens cached + " + adding + " new exceed the context length of "
                        + capacity + " (load the model with a longer context, up to the model's own)");
    }
}

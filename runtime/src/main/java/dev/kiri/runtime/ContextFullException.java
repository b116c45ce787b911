package dev.kiri.runtime;

/** Tokens that do not fit in the KV cache: the context length in use is exhausted. */
public final class ContextFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public ContextFullException(int cached, int adding, int capacity) {
        super("context full: " + cached + " tokens cached + " + adding + " new exceed the context length of " + capacity
                + " (load the model with a longer context, up to the model's own)");
    }
}

package dev.kiri.runtime;

/**
 * Stops a generation from any thread (or from its own {@link TokenListener}). The generation
 * checks it before each token and ends with {@link FinishReason#CANCELLED}. Thread-safe; one
 * instance may cancel several generations.
 */
public final class Cancellation {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}

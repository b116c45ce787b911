package dev.kiri.runtime;

/**
 * Receives a generation as it happens, one call per generated token, on the generating thread.
 *
 * <p>{@code text} is the text that became final with this token: always well-formed (a character
 * split over several byte tokens arrives whole with its last byte) and never part of a stop
 * string. It may be empty: while a character is incomplete, or while the text so far could be the
 * start of a stop string (it is then delivered with a later token, or dropped if the stop string
 * completes). Text still held back when the generation ends (an incomplete character, now U+FFFD,
 * or the start of a stop string that never completed) comes in one last call with
 * {@code tokenId} -1. The concatenation of every {@code text} is {@link GenerationResult#text()}.
 *
 * <p>To stop early, cancel the {@link Cancellation} passed in {@link GenerateOptions#cancellation}.
 * An exception thrown here ends the generation and propagates to the caller.
 */
@FunctionalInterface
public interface TokenListener {
    void onToken(String text, int tokenId);

    /**
     * Called after each batch of prompt tokens is evaluated, before the first token is generated
     * (for progress displays of long prompts). Does nothing by default.
     *
     * @param evaluated prompt tokens evaluated so far in this call
     * @param total     prompt tokens this call evaluates (cached ones excluded)
     */
    default void onPromptProgress(int evaluated, int total) {
    }

    /** A listener that ignores everything. */
    static TokenListener none() {
        return (text, id) -> { };
    }
}

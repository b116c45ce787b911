package dev.kiri.runtime;

/**
 * Where the time of a generation went.
 *
 * @param loadMillis   time to load the model (the same for every generation of one model)
 * @param promptTokens prompt tokens evaluated (cached ones from a previous call excluded)
 * @param promptNanos  time to evaluate them
 * @param decodeTokens tokens run through the model one at a time while generating: every generated
 *                     token but the last when the generation stops at {@code maxTokens}, at a stop
 *                     string or at a full context (that token's pass would only compute logits nobody
 *                     samples), and every one when it stops at an end-of-generation token or is
 *                     cancelled; the first generated token comes from the prompt's logits. The number
 *                     of generated tokens is {@link GenerationResult#tokens()}'s length.
 * @param decodeNanos  time from the prompt's end to the generation's (the passes and all sampling)
 */
public record Timings(long loadMillis, int promptTokens, long promptNanos, int decodeTokens, long decodeNanos) {

    /** Prompt tokens per second (0 when none were evaluated). */
    public double promptTokensPerSecond() {
        return promptNanos > 0 ? promptTokens * 1e9 / promptNanos : 0;
    }

    /**
     * Decode speed: single-token passes per second, what {@code llama-bench}'s tg test reports (0 when
     * none ran, e.g. with {@code maxTokens} 1).
     */
    public double decodeTokensPerSecond() {
        return decodeNanos > 0 ? decodeTokens * 1e9 / decodeNanos : 0;
    }

    @Override
    public String toString() {
        return String.format("load %d ms, prompt %d tokens %.1f tok/s, decode %d tokens %.1f tok/s",
                loadMillis, promptTokens, promptTokensPerSecond(), decodeTokens, decodeTokensPerSecond());
    }
}

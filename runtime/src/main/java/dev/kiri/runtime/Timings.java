package dev.kiri.runtime;

/**
 * Where the time of a generation went.
 *
 * @param loadMillis   time to load the model (the same for every generation of one model)
 * @param promptTokens prompt tokens evaluated (cached ones from a previous call excluded)
 * @param promptNanos  time to evaluate them
 * @param decodeTokens tokens generated
 * @param decodeNanos  time to generate them (sampling included)
 */
public record Timings(long loadMillis, int promptTokens, long promptNanos, int decodeTokens, long decodeNanos) {

    /** Prompt tokens per second (0 when none were evaluated). */
    public double promptTokensPerSecond() {
        return promptNanos > 0 ? promptTokens * 1e9 / promptNanos : 0;
    }

    /** Generated tokens per second (0 when none were generated). */
    public double decodeTokensPerSecond() {
        return decodeNanos > 0 ? decodeTokens * 1e9 / decodeNanos : 0;
    }

    @Override
    public String toString() {
        return String.format("load %d ms, prompt %d tokens %.1f tok/s, decode %d tokens %.1f tok/s",
                loadMillis, promptTokens, promptTokensPerSecond(), decodeTokens, decodeTokensPerSecond());
    }
}

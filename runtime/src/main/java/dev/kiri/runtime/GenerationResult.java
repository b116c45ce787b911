package dev.kiri.runtime;

/**
 * The outcome of one generation.
 *
 * @param text         the generated text (without stop string or end-of-generation token)
 * @param tokens       the generated token ids, in order (an end-of-generation token is not included)
 * @param promptTokens tokens in the prompt
 * @param finishReason why it ended
 * @param timings      load, prompt and decode times
 * @param seed         the seed the sampler used (to reproduce the generation)
 */
public record GenerationResult(String text, int[] tokens, int promptTokens, FinishReason finishReason,
                               Timings timings, long seed) {
    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public String toString() {
        return "GenerationResult[" + tokens.length + " tokens, " + finishReason + ", " + timings + "]";
    }
}

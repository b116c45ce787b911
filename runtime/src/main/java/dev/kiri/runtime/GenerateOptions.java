package dev.kiri.runtime;

import java.util.List;

/**
 * How to generate: length, sampling, stops. Immutable; each {@code name(value)} method returns a
 * copy with that option changed.
 *
 * <pre>{@code GenerateOptions.defaults().maxTokens(128).temperature(0.7f).seed(42).stop("\n\n")}</pre>
 *
 * <p>Sampling runs in llama.cpp's order: repetition, frequency and presence penalties over the
 * last {@code repeatLastN} tokens; top-k; top-p; min-p; temperature; a draw with the seeded
 * generator. A temperature of 0 (or {@link #greedy()}) takes the most likely token instead. The
 * same seed and options give the same tokens on the same machine.
 *
 * @param maxTokens        most tokens to generate (default 256); -1: until an end-of-generation token,
 *                         a stop string or the end of the context
 * @param temperature      softmax temperature (default 0.8); 0 is greedy
 * @param topK             keep the k most likely tokens (default 40); 0 keeps all
 * @param topP             keep the most likely tokens whose probabilities sum to p (default 0.95); 1 keeps all
 * @param minP             drop tokens less likely than minP × the top probability (default 0.05); 0 keeps all
 * @param repeatPenalty    divide positive (multiply negative) logits of recent tokens (default 1: off)
 * @param repeatLastN      tokens the penalties look back over (default 64; 0: off, -1: the whole context)
 * @param frequencyPenalty subtract this × the count of each recent token (default 0)
 * @param presencePenalty  subtract this from each token present in the recent ones (default 0)
 * @param seed             seed of the sampler; null: a fresh one each time (reported in the result)
 * @param stop             stop strings: generation ends before the first occurrence of any of them
 * @param cancellation     checked before every token; null: none
 * @param parseSpecial     whether special-token text in the prompt (e.g. {@code <|im_start|>}) becomes
 *                         the special token (default false: it is plain text). Chat templates always parse.
 * @param ignoreEndOfGeneration keep generating past end-of-generation tokens (for benchmarks; default false)
 * @param contextShiftKeep -1 (default): a generation that fills the context ends with
 *                         {@link FinishReason#CONTEXT_FULL}; n &ge; 0: the context shifts instead, see
 *                         {@link #contextShift(int)}
 */
public record GenerateOptions(int maxTokens, float temperature, int topK, float topP, float minP,
                              float repeatPenalty, int repeatLastN, float frequencyPenalty, float presencePenalty,
                              Long seed, List<String> stop, Cancellation cancellation, boolean parseSpecial,
                              boolean ignoreEndOfGeneration, int contextShiftKeep) {

    public GenerateOptions {
        if (maxTokens == 0 || maxTokens < -1) throw new IllegalArgumentException("maxTokens must be positive or -1: " + maxTokens);
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0: " + temperature);
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0: " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1]: " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("minP must be in [0, 1]: " + minP);
        if (!(repeatPenalty > 0)) throw new IllegalArgumentException("repeatPenalty must be > 0: " + repeatPenalty);
        if (repeatLastN < -1) throw new IllegalArgumentException("repeatLastN must be >= -1: " + repeatLastN);
        if (!Float.isFinite(frequencyPenalty) || !Float.isFinite(presencePenalty)) {
            throw new IllegalArgumentException("penalties must be finite");
        }
        if (contextShiftKeep < -1) throw new IllegalArgumentException("contextShift keep must be >= 0 (or -1: off): " + contextShiftKeep);
        stop = List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("empty stop string");
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties, 256 tokens. */
    public static GenerateOptions defaults() {
        return new GenerateOptions(256, 0.8f, 40, 0.95f, 0.05f, 1f, 64, 0f, 0f, null, List.of(), null, false, false, -1);
    }

    /** The defaults with temperature 0: always the most likely token. */
    public static GenerateOptions greedy() {
        return defaults().temperature(0f);
    }

    public GenerateOptions maxTokens(int n) {
        return new GenerateOptions(n, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions temperature(float t) {
        return new GenerateOptions(maxTokens, t, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions topK(int k) {
        return new GenerateOptions(maxTokens, temperature, k, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions topP(float p) {
        return new GenerateOptions(maxTokens, temperature, topK, p, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions minP(float p) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, p, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions repeatPenalty(float p) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, p, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions repeatLastN(int n) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, n, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions frequencyPenalty(float p) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, p, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions presencePenalty(float p) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, p, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions seed(long s) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, s, stop, cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions stop(String... strings) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, List.of(strings), cancellation, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions cancellation(Cancellation c) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, c, parseSpecial, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions parseSpecial(boolean p) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, p, ignoreEndOfGeneration, contextShiftKeep);
    }

    public GenerateOptions ignoreEndOfGeneration(boolean ignore) {
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignore, contextShiftKeep);
    }

    /**
     * Lets a generation run past the end of the context: when the KV cache is full, the first
     * {@code keep} tokens (e.g. a system prompt) stay, the older half of the rest is dropped, and
     * the newer half is evaluated again at its new positions (a re-run of the kept window, not a
     * rotation of the cached keys: slower, but exact for every architecture, sliding windows
     * included). The model then sees a shorter history, so the text may lose track of what was
     * dropped. Without this option a full context ends the generation with
     * {@link FinishReason#CONTEXT_FULL}.
     *
     * @param keep tokens at the start that are never dropped (capped at the tokens cached)
     */
    public GenerateOptions contextShift(int keep) {
        if (keep < 0) throw new IllegalArgumentException("contextShift keep must be >= 0: " + keep);
        return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, repeatLastN, frequencyPenalty, presencePenalty, seed, stop, cancellation, parseSpecial, ignoreEndOfGeneration, keep);
    }
}

package dev.kiri.runtime.sampling;

/**
 * What {@link Sampler} does with the logits; see {@code GenerateOptions} for the meaning and
 * defaults of each value.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repeatPenalty,
                             int repeatLastN, float frequencyPenalty, float presencePenalty) {

    /** Always the most likely token, no penalties. */
    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 0f, 1f, 0, 0f, 0f);
    }

    boolean penalties() {
        return repeatLastN != 0 && (repeatPenalty != 1f || frequencyPenalty != 0f || presencePenalty != 0f);
    }
}

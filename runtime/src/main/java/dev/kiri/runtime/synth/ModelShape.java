package dev.kiri.runtime.synth;

import java.util.List;

/**
 * The shape of a real model, for synthetic benchmark files that cost exactly what the real model
 * costs.
 *
 * @param id            the name {@code kiri synth --shape} takes
 * @param arch          {@code general.architecture}
 * @param dim           embedding width
 * @param layers        decoder blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads
 * @param headDim       head width
 * @param ffnDim        feed-forward width
 * @param vocab         vocabulary size (token_embd rows)
 * @param context       trained context length
 * @param ropeBase      RoPE frequency base
 * @param eps           RMSNorm epsilon
 * @param qkvBias       Q/K/V biases (Qwen2)
 * @param llama3Rope    Llama 3.1/3.2 frequency scaling (written as {@code rope_freqs.weight})
 */
public record ModelShape(String id, String arch, int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim,
                         int vocab, int context, float ropeBase, float eps, boolean qkvBias, boolean llama3Rope) {

    public static final ModelShape LLAMA_3_2_1B =
            new ModelShape("llama-3.2-1b", "llama", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000f, 1e-5f, false, true);
    public static final ModelShape QWEN_2_5_0_5B =
            new ModelShape("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1000000f, 1e-6f, true, false);

    public static List<ModelShape> all() {
        return List.of(LLAMA_3_2_1B, QWEN_2_5_0_5B);
    }

    public static ModelShape byId(String id) {
        for (ModelShape s : all()) if (s.id.equalsIgnoreCase(id)) return s;
        throw new IllegalArgumentException("unknown shape '" + id + "'; known: "
                + String.join(", ", all().stream().map(ModelShape::id).toList()));
    }

    /** The same shape with another vocabulary size (that of a vocabulary taken from a file). */
    public ModelShape withVocab(int n) {
        return new ModelShape(id, arch, dim, layers, heads, kvHeads, headDim, ffnDim, n, context, ropeBase, eps, qkvBias, llama3Rope);
    }
}

package dev.kiri.runtime.model;

import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.GgufValueType;
import dev.kiri.runtime.UnsupportedModelException;
import java.util.Arrays;

/**
 * The hyper-parameters of a decoder, read once from GGUF metadata ({@code <arch>.*} keys) and
 * resolved per layer: which layers slide, which apply RoPE, with which base.
 *
 * @param arch           the architecture's flags
 * @param name           {@code general.name}, or the architecture name
 * @param layers         {@code block_count}
 * @param dim            {@code embedding_length}
 * @param heads          {@code attention.head_count}
 * @param kvHeads        {@code attention.head_count_kv} (default: heads)
 * @param headDim        {@code attention.key_length} (default dim / heads); value length must equal it
 * @param ffnDim         {@code feed_forward_length}
 * @param vocab          rows of {@code token_embd} (set when the weights are bound; 0 before)
 * @param contextLength  {@code context_length}: the longest context the model was trained for
 * @param eps            {@code attention.layer_norm_rms_epsilon}
 * @param ropeDim        {@code rope.dimension_count} (default headDim): rotated dimensions per head
 * @param ropeBase       {@code rope.freq_base} (default 10000)
 * @param ropeBaseSwa    base of the sliding layers' RoPE when the architecture has one
 * @param ropeScale      linear position scale (1 / {@code rope.scaling.factor} for "linear" scaling, else 1)
 * @param llama3Scaling  Llama 3 frequency scaling parameters {factor, low, high, original context}, or null
 * @param slidingWindow  {@code attention.sliding_window}, 0 for none
 * @param slidingLayers  per layer: attends through the sliding window
 * @param ropeLayers     per layer: applies RoPE
 * @param attnScale      multiplier of q·k (default 1/√headDim; {@code attention.scale} when given)
 * @param attnSoftcap    {@code attn_logit_softcapping}, 0 for none
 * @param finalSoftcap   {@code final_logit_softcapping}, 0 for none
 */
public record ModelConfig(Architecture arch, String name, int layers, int dim, int heads, int kvHeads, int headDim,
                          int ffnDim, int vocab, int contextLength, float eps, int ropeDim, float ropeBase,
                          float ropeBaseSwa, float ropeScale, float[] llama3Scaling, int slidingWindow,
                          boolean[] slidingLayers, boolean[] ropeLayers, float attnScale, float attnSoftcap,
                          float finalSoftcap) {

    /** Reads the configuration; {@code source} names the file in error messages. */
    public static ModelConfig fromMetadata(GgufMetadata md, String source) {
        String archName = md.optString("general.architecture")
                .orElseThrow(() -> new UnsupportedModelException(source + ": metadata key general.architecture is missing"));
        Architecture arch = Architecture.forName(archName, source);
        Keys k = new Keys(md, archName + ".", source);

        int layers = k.requireInt("block_count");
        int dim = k.requireInt("embedding_length");
        int heads = k.requireInt("attention.head_count");
        int kvHeads = k.optInt("attention.head_count_kv", heads);
        int headDim = k.optInt("attention.key_length", heads > 0 ? dim / heads : 0);
        int valueDim = k.optInt("attention.value_length", headDim);
        int ffnDim = k.requireInt("feed_forward_length");
        int ctx = k.requireInt("context_length");
        float eps = k.optFloat("attention.layer_norm_rms_epsilon", 1e-5f);
        int ropeDim = k.optInt("rope.dimension_count", headDim);
        float ropeBase = k.optFloat("rope.freq_base", 10000f);
        float ropeBaseSwa = arch.swaRopeBase() ? k.optFloat("rope.freq_base_swa", 10000f) : ropeBase;

        if (layers <= 0 || dim <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || ffnDim <= 0 || ctx <= 0) {
            throw new UnsupportedModelException(source + ": implausible shape: block_count " + layers + ", embedding_length "
                    + dim + ", head_count " + heads + ", head_count_kv " + kvHeads + ", key_length " + headDim
                    + ", feed_forward_length " + ffnDim + ", context_length " + ctx);
        }
        if (heads % kvHeads != 0) {
            throw new UnsupportedModelException(source + ": " + heads + " attention heads are not a multiple of " + kvHeads + " KV heads");
        }
        if (valueDim != headDim) {
            throw new UnsupportedModelException(source + ": attention.value_length " + valueDim + " differs from key_length "
                    + headDim + "; not supported");
        }
        if (ropeDim <= 0 || ropeDim > headDim || (ropeDim & 1) != 0) {
            throw new UnsupportedModelException(source + ": rope.dimension_count " + ropeDim + " must be even and at most the head size " + headDim);
        }

        // RoPE scaling.
        float ropeScale = 1f;
        float[] llama3 = null;
        String scalingType = k.optString("rope.scaling.type", "none");
        float factor = k.optFloat("rope.scaling.factor", k.optFloat("rope.scale_linear", 1f));
        switch (scalingType) {
            case "none", "" -> {
                if (md.contains(archName + ".rope.scale_linear") && factor > 0) ropeScale = 1f / factor;
            }
            case "linear" -> ropeScale = factor > 0 ? 1f / factor : 1f;
            case "llama3" -> llama3 = new float[] {factor,
                    k.optFloat("rope.scaling.low_freq_factor", 1f),
                    k.optFloat("rope.scaling.high_freq_factor", 4f),
                    k.optInt("rope.scaling.original_context_length", 8192)};
            case "longrope" -> { /* per-dimension factors come from the rope_factors_* tensors */ }
            default -> throw new UnsupportedModelException(source + ": rope.scaling.type '" + scalingType
                    + "' is not supported (supported: none, linear, llama3, longrope)");
        }

        // Sliding window and per-layer RoPE.
        int window = k.optInt("attention.sliding_window", 0);
        boolean[] sliding = new boolean[layers];
        if (window > 0) {
            switch (arch.sliding()) {
                case NONE -> { }
                case ALL -> Arrays.fill(sliding, true);
                case EVEN_LAYERS -> { for (int i = 0; i < layers; i += 2) sliding[i] = true; }
                case FROM_METADATA_PERIOD_6 -> slidingFromMetadata(k, sliding, 6, source);
                case FROM_METADATA -> slidingFromMetadata(k, sliding, 0, source);
            }
        }
        boolean anySliding = false;
        for (boolean s : sliding) anySliding |= s;
        boolean[] rope = new boolean[layers];
        for (int i = 0; i < layers; i++) rope[i] = !(arch.ropeOnlyOnSliding() && anySliding && !sliding[i]);

        float attnScale = k.optFloat("attention.scale", 0f);
        if (attnScale == 0f) attnScale = (float) (1.0 / Math.sqrt(headDim));
        float attnSoftcap = k.optFloat("attn_logit_softcapping", 0f);
        float finalSoftcap = k.optFloat("final_logit_softcapping", 0f);
        String name = md.optString("general.name").orElse(archName);

        return new ModelConfig(arch, name, layers, dim, heads, kvHeads, headDim, ffnDim, 0, ctx, eps, ropeDim,
                ropeBase, ropeBaseSwa, ropeScale, llama3, window > 0 && anySliding ? window : 0, sliding, rope,
                attnScale, attnSoftcap, finalSoftcap);
    }

    private static void slidingFromMetadata(Keys k, boolean[] sliding, int defaultPeriod, String source) {
        String key = k.prefix + "attention.sliding_window_pattern";
        var value = k.md.get(key);
        if (value.isEmpty()) {
            if (defaultPeriod > 0) periodic(sliding, defaultPeriod);
            return;
        }
        if (value.get().type() == GgufValueType.ARRAY) {
            GgufArray a = k.md.getArray(key);
            if (a.length() != sliding.length) {
                throw new UnsupportedModelException(source + ": " + key + " has " + a.length() + " entries for "
                        + sliding.length + " layers");
            }
            for (int i = 0; i < sliding.length; i++) sliding[i] = a.getLong(i) != 0;
        } else {
            periodic(sliding, k.md.getInt(key));
        }
    }

    /** Period N: layers with {@code il % N < N - 1} slide, every N-th is global (N <= 1: none slide). */
    private static void periodic(boolean[] sliding, int period) {
        if (period <= 1) return;
        for (int i = 0; i < sliding.length; i++) sliding[i] = i % period < period - 1;
    }

    /** This configuration with the vocabulary size known from the embedding table. */
    ModelConfig withVocab(int vocabSize) {
        return new ModelConfig(arch, name, layers, dim, heads, kvHeads, headDim, ffnDim, vocabSize, contextLength, eps,
                ropeDim, ropeBase, ropeBaseSwa, ropeScale, llama3Scaling, slidingWindow, slidingLayers, ropeLayers,
                attnScale, attnSoftcap, finalSoftcap);
    }

    /** Width of all query heads together. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of all key (or value) heads together. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Metadata access with the architecture prefix and errors that name the file and key. */
    private record Keys(GgufMetadata md, String prefix, String source) {
        int requireInt(String key) {
            return md.optInt(prefix + key).orElseThrow(() -> new UnsupportedModelException(
                    source + ": metadata key " + prefix + key + " is missing"));
        }

        int optInt(String key, int dflt) {
            return md.optInt(prefix + key).orElse(dflt);
        }

        float optFloat(String key, float dflt) {
            return md.optFloat(prefix + key).orElse(dflt);
        }

        String optString(String key, String dflt) {
            return md.optString(prefix + key).orElse(dflt);
        }
    }
}

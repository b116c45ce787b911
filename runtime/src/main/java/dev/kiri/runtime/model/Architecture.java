package dev.kiri.runtime.model;

import dev.kiri.runtime.UnsupportedModelException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What distinguishes one decoder architecture from another, as data. The forward pass in
 * {@link Decoder} is written once and consults these flags; adding an architecture of the same
 * family means adding one entry to {@link #KNOWN}.
 *
 * @param name              {@code general.architecture} value
 * @param neoxRope          rotate pairs (i, i + d/2) instead of (2i, 2i + 1)
 * @param scaleEmbeddings   multiply the token embeddings by √n_embd (Gemma)
 * @param gelu              GeGLU feed-forward (tanh GELU) instead of SwiGLU
 * @param preNorms          RMSNorm before attention ({@code attn_norm}) and before the FFN ({@code ffn_norm})
 * @param postNorms         RMSNorm of the attention output and of the FFN output before each residual
 *                          add ({@code post_attention_norm}, {@code post_ffw_norm})
 * @param qkNorm            per-head RMSNorm of Q and K before RoPE ({@code attn_q_norm}, {@code attn_k_norm})
 * @param qkvBias           Q/K/V biases required (they are used whenever present)
 * @param fusedQkv          one {@code attn_qkv} matrix, rows Q then K then V
 * @param fusedGateUp       one {@code ffn_up} matrix, rows gate then up
 * @param sliding           which layers use the sliding window ({@code attention.sliding_window})
 * @param ropeOnlyOnSliding when some layers slide, the others apply no RoPE at all (EXAONE 4)
 * @param swaRopeBase       sliding layers use {@code rope.freq_base_swa} (default 10000) and no scaling
 */
public record Architecture(String name, boolean neoxRope, boolean scaleEmbeddings, boolean gelu,
                           boolean preNorms, boolean postNorms, boolean qkNorm, boolean qkvBias,
                           boolean fusedQkv, boolean fusedGateUp, SlidingPattern sliding,
                           boolean ropeOnlyOnSliding, boolean swaRopeBase) {

    /** Which layers attend through the sliding window. */
    public enum SlidingPattern {
        /** No layer slides. */
        NONE,
        /** Every layer slides when the file gives a window (Phi-3). */
        ALL,
        /** Even layers slide, odd layers are global (Gemma 2). */
        EVEN_LAYERS,
        /** {@code attention.sliding_window_pattern}: an integer period N (layers with {@code il % N < N - 1}
         *  slide) or a bool per layer; default period 6 (Gemma 3). */
        FROM_METADATA_PERIOD_6,
        /** {@code attention.sliding_window_pattern} as a bool per layer or a period; none: no layer slides. */
        FROM_METADATA
    }

    private static final Map<String, Architecture> KNOWN = new LinkedHashMap<>();

    private static void add(Architecture a) {
        KNOWN.put(a.name, a);
    }

    static {
        //                      name       neox   embSc  gelu   pre    post   qkN    bias   fQkv   fGU    sliding                                ropeSw swaBase
        add(new Architecture("llama",     false, false, false, true,  false, false, false, false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("mistral",   false, false, false, true,  false, false, false, false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("qwen2",     true,  false, false, true,  false, false, true,  false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("qwen3",     true,  false, false, true,  false, true,  false, false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("gemma",     true,  true,  true,  true,  false, false, false, false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("gemma2",    true,  true,  true,  true,  true,  false, false, false, false, SlidingPattern.EVEN_LAYERS,            false, false));
        add(new Architecture("gemma3",    true,  true,  true,  true,  true,  true,  false, false, false, SlidingPattern.FROM_METADATA_PERIOD_6, false, true));
        add(new Architecture("phi3",      true,  false, false, true,  false, false, false, true,  true,  SlidingPattern.ALL,                    false, false));
        add(new Architecture("exaone",    true,  false, false, true,  false, false, false, false, false, SlidingPattern.NONE,                   false, false));
        add(new Architecture("exaone4",   true,  false, false, false, true,  true,  false, false, false, SlidingPattern.FROM_METADATA,          true,  false));
    }

    /** The architecture named by {@code general.architecture}, or a clear error listing the supported ones. */
    public static Architecture forName(String name, String source) {
        Architecture a = KNOWN.get(name);
        if (a == null) {
            throw new UnsupportedModelException(source + ": unsupported architecture '" + name + "'; supported: "
                    + String.join(", ", supported()));
        }
        return a;
    }

    /** Names of the supported architectures. */
    public static List<String> supported() {
        return List.copyOf(KNOWN.keySet());
    }
}

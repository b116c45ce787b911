package dev.kiri.runtime.synth;

import dev.kiri.gguf.GgmlType;
import java.util.List;
import java.util.Locale;

/**
 * Which ggml type each tensor of a file of a given llama-quantize "file type" gets, following
 * llama-quantize's per-tensor rules without an importance matrix (llama.cpp's
 * {@code llama_tensor_get_type}; early 2025 and current versions agree on everything below but
 * {@code attn_qkv} and the Q2_K/Q3_K fallback), for the dense architectures of {@link ModelShape}:
 * <ul>
 *   <li>1-D tensors (norms, biases, {@code rope_freqs}) stay F32;</li>
 *   <li>F32, F16, BF16 files: every matrix in that type (no per-tensor rules);</li>
 *   <li>quantized files: the output matrix (the token embedding when tied) in Q6_K, unless the file
 *       type is Q8_0 (it stays Q8_0); an untied token embedding keeps the file's type;</li>
 *   <li>Q4_K_M and Q5_K_M additionally put {@code attn_v} and {@code ffn_down} of the layers chosen
 *       by {@link #useMoreBits} in Q6_K;</li>
 *   <li>Q4_K_S puts {@code attn_v} of layers 0..3 (a fixed count, whatever the depth) and
 *       {@code ffn_down} of the first eighth of the layers in Q5_K;</li>
 *   <li>Q3_K_M puts {@code attn_v} of layers 0 and 1 (a fixed count) in Q5_K and of the other
 *       layers in Q4_K, {@code ffn_down} of the first sixteenth of the layers in Q5_K and of the
 *       others in Q4_K, and {@code attn_output} in Q4_K;</li>
 *   <li>Q3_K_L puts {@code attn_v}, {@code ffn_down} and {@code attn_output} of every layer in
 *       Q5_K;</li>
 *   <li>Q2_K puts {@code attn_v} in Q4_K when the model shares each key/value head between at least
 *       four query heads ({@code n_gqa() >= 4}, as llama-3.2-1b's 32 / 8 and qwen2.5-0.5b's 14 / 2),
 *       else in Q3_K; {@code ffn_down} and {@code attn_output} in Q3_K;</li>
 *   <li>Q5_K_S and Q3_K_S have no rule beyond the output; {@code attn_q}, {@code attn_k},
 *       {@code ffn_gate} and {@code ffn_up} keep the file's type in all of these, and so does
 *       {@code attn_output} outside Q2_K, Q3_K_M and Q3_K_L (their rules in llama-quantize are for
 *       other file types, mixtures of experts or Falcon);</li>
 *   <li>a fused {@code attn_qkv} (Phi-3) follows the {@code attn_v} rules, as in current llama.cpp,
 *       whose tensor categories count it as an attn_v; early-2025 versions instead put it in Q5_K
 *       (Q4_K_M) or Q6_K (Q5_K_M) in every layer;</li>
 *   <li>a K-quant for a matrix whose rows are not a multiple of 256 falls back as llama-quantize
 *       does: Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, Q2_K/Q3_K to Q4_0 (current llama.cpp;
 *       early-2025 versions chose IQ4_NL, which {@code Quantize} cannot write).</li>
 * </ul>
 * The layer index of these rules is llama-quantize's count of {@code attn_v} (or {@code ffn_down})
 * tensors seen so far, which is the block index in a dense model. Not covered: llama-quantize's
 * rule for models it detects as 70B (attn_v left in Q3_K or Q4_K goes to Q5_K), which needs the
 * model type.
 * {@code pure} puts every matrix, including the embedding, in the named type.
 */
public final class QuantMix {
    private final String name;
    private final GgmlType base;
    private final int fileType;
    private final boolean pure;

    private record FileType(String name, GgmlType base, int id) {
    }

    private static final List<FileType> TYPES = List.of(
            new FileType("F32", GgmlType.F32, 0),
            new FileType("F16", GgmlType.F16, 1),
            new FileType("Q4_0", GgmlType.Q4_0, 2),
            new FileType("Q4_1", GgmlType.Q4_1, 3),
            new FileType("Q8_0", GgmlType.Q8_0, 7),
            new FileType("Q5_0", GgmlType.Q5_0, 8),
            new FileType("Q5_1", GgmlType.Q5_1, 9),
            new FileType("Q2_K", GgmlType.Q2_K, 10),
            new FileType("Q3_K_S", GgmlType.Q3_K, 11),
            new FileType("Q3_K_M", GgmlType.Q3_K, 12),
            new FileType("Q3_K_L", GgmlType.Q3_K, 13),
            new FileType("Q4_K_S", GgmlType.Q4_K, 14),
            new FileType("Q4_K_M", GgmlType.Q4_K, 15),
            new FileType("Q5_K_S", GgmlType.Q5_K, 16),
            new FileType("Q5_K_M", GgmlType.Q5_K, 17),
            new FileType("Q6_K", GgmlType.Q6_K, 18),
            new FileType("BF16", GgmlType.BF16, 32));

    private QuantMix(String name, GgmlType base, int fileType, boolean pure) {
        this.name = name;
        this.base = base;
        this.fileType = fileType;
        this.pure = pure;
    }

    /** The mix of a llama-quantize file type name (F16, Q8_0, Q4_0, Q4_K_M, Q5_K_S, ...). */
    public static QuantMix of(String type, boolean pure) {
        for (FileType t : TYPES) {
            if (t.name.equalsIgnoreCase(type)) return new QuantMix(t.name, t.base, t.id, pure);
        }
        throw new IllegalArgumentException("unsupported type '" + type + "'; supported: " + names());
    }

    public static String names() {
        return String.join(", ", TYPES.stream().map(FileType::name).toList());
    }

    public String name() {
        return name + (pure ? " (pure)" : "");
    }

    /** {@code general.file_type}. */
    public int fileType() {
        return fileType;
    }

    /**
     * The type of a matrix.
     *
     * @param tensor   e.g. {@code blk.3.attn_v.weight}
     * @param rowLen   ne0
     * @param layer    its layer, or -1
     * @param layers   the model's layer count
     * @param gqa      query heads per key/value head, integer-divided as llama.cpp's {@code n_gqa()}
     *                 (Q2_K's {@code attn_v} rule depends on it)
     * @param isOutput the output matrix, or the token embedding of a model with tied embeddings
     */
    public GgmlType typeOf(String tensor, long rowLen, int layer, int layers, int gqa, boolean isOutput) {
        GgmlType t = base;
        boolean quantized = base != GgmlType.F32 && base != GgmlType.F16 && base != GgmlType.BF16;
        if (!pure && quantized) {
            if (isOutput) {
                if (t != GgmlType.Q8_0) t = GgmlType.Q6_K;
            } else if (tensor.endsWith("attn_v.weight") || tensor.endsWith("attn_qkv.weight")) {
                switch (name) {
                    case "Q2_K" -> t = gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                    case "Q3_K_M" -> t = layer < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                    case "Q3_K_L" -> t = GgmlType.Q5_K;
                    case "Q4_K_M", "Q5_K_M" -> {
                        if (useMoreBits(layer, layers)) t = GgmlType.Q6_K;
                    }
                    case "Q4_K_S" -> {
                        if (layer < 4) t = GgmlType.Q5_K;
                    }
                    default -> { }
                }
            } else if (tensor.endsWith("ffn_down.weight")) {
                switch (name) {
                    case "Q2_K" -> t = GgmlType.Q3_K;
                    case "Q3_K_M" -> t = layer < layers / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
                    case "Q3_K_L" -> t = GgmlType.Q5_K;
                    case "Q4_K_M", "Q5_K_M" -> {
                        if (useMoreBits(layer, layers)) t = GgmlType.Q6_K;
                    }
                    case "Q4_K_S" -> {
                        if (layer < layers / 8) t = GgmlType.Q5_K;
                    }
                    default -> { }
                }
            } else if (tensor.endsWith("attn_output.weight")) {
                switch (name) {
                    case "Q2_K" -> t = GgmlType.Q3_K;
                    case "Q3_K_M" -> t = GgmlType.Q4_K;
                    case "Q3_K_L" -> t = GgmlType.Q5_K;
                    default -> { }
                }
            }
        }
        return fallback(t, rowLen);
    }

    /** llama-quantize's choice of the layers that get more bits: the first and last eighth, and every third between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    private static GgmlType fallback(GgmlType t, long rowLen) {
        if (rowLen % t.blockSize() == 0) return t;
        GgmlType f = switch (t) {
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case IQ4_XS -> GgmlType.IQ4_NL;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new IllegalArgumentException("rows of " + rowLen + " do not fit " + t.ggmlName() + " blocks");
        };
        if (rowLen % f.blockSize() != 0) {
            throw new IllegalArgumentException("rows of " + rowLen + " fit neither " + t.ggmlName() + " nor " + f.ggmlName());
        }
        return f;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

package dev.kiri.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.Quantize;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuantMixTest {
    @Test
    void q4_0KeepsTheTiedOutputInQ6K() {
        QuantMix m = QuantMix.of("Q4_0", false);
        assertEquals(GgmlType.Q6_K, m.typeOf("token_embd.weight", 2048, -1, 16, 4, true));
        assertEquals(GgmlType.Q4_0, m.typeOf("blk.0.attn_v.weight", 2048, 0, 16, 4, false));
        assertEquals(GgmlType.Q4_0, m.typeOf("blk.0.ffn_down.weight", 8192, 0, 16, 4, false));
        assertEquals(2, m.fileType());
    }

    @Test
    void pureAndQ8_0PutEveryMatrixInTheirType() {
        assertEquals(GgmlType.Q4_0, QuantMix.of("Q4_0", true).typeOf("token_embd.weight", 2048, -1, 16, 4, true));
        assertEquals(GgmlType.Q8_0, QuantMix.of("Q8_0", false).typeOf("token_embd.weight", 2048, -1, 16, 4, true));
        assertEquals(GgmlType.F16, QuantMix.of("F16", false).typeOf("token_embd.weight", 2048, -1, 16, 4, true));
    }

    @Test
    void q4KMGivesMoreBitsToTheLlamaQuantizeLayers() {
        QuantMix m = QuantMix.of("Q4_K_M", false);
        List<Integer> q6 = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            if (m.typeOf("blk." + i + ".attn_v.weight", 2048, i, 16, 4, false) == GgmlType.Q6_K) q6.add(i);
            assertEquals(m.typeOf("blk." + i + ".attn_v.weight", 2048, i, 16, 4, false),
                    m.typeOf("blk." + i + ".ffn_down.weight", 8192, i, 16, 4, false));
            assertEquals(GgmlType.Q4_K, m.typeOf("blk." + i + ".attn_q.weight", 2048, i, 16, 4, false));
        }
        assertEquals(List.of(0, 1, 4, 7, 10, 13, 14, 15), q6);
    }

    @Test
    void kQuantsFallBackOnRowsThatAreNotWholeSuperBlocks() {
        QuantMix m = QuantMix.of("Q4_K_M", false);
        // Qwen2.5-0.5B: rows of 896
        assertEquals(GgmlType.Q5_0, m.typeOf("blk.2.attn_q.weight", 896, 2, 24, 7, false));
        assertEquals(GgmlType.Q8_0, m.typeOf("token_embd.weight", 896, -1, 24, 7, true));
        assertEquals(GgmlType.Q8_0, m.typeOf("blk.0.attn_v.weight", 896, 0, 24, 7, false));
        assertEquals(GgmlType.Q4_K, m.typeOf("blk.4.ffn_down.weight", 4864, 4, 24, 7, false));
        assertEquals(GgmlType.Q6_K, m.typeOf("blk.2.ffn_down.weight", 4864, 2, 24, 7, false));
    }

    /** llama-quantize's use_more_bits layers, written out: the first and last eighth and every third between. */
    private static final List<Integer> MORE_BITS_16 = List.of(0, 1, 4, 7, 10, 13, 14, 15);
    private static final List<Integer> MORE_BITS_24 = List.of(0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23);
    private static final List<Integer> MORE_BITS_32 =
            List.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31);

    /** The matrices of one block, in file order. */
    private static final List<String> BLOCK =
            List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down");

    /** The types a mix gives block {@code i}'s matrices, in {@link #BLOCK} order. */
    private static List<GgmlType> block(QuantMix m, int i, int layers, int gqa, int dim, int ffn) {
        List<GgmlType> types = new ArrayList<>();
        for (String t : BLOCK) {
            int rowLen = t.equals("ffn_down") ? ffn : dim;
            types.add(m.typeOf("blk." + i + "." + t + ".weight", rowLen, i, layers, gqa, false));
        }
        return types;
    }

    /** A block whose attn_v and ffn_down are {@code v} and {@code down}, the rest {@code rest}. */
    private static List<GgmlType> expect(GgmlType rest, GgmlType v, GgmlType down) {
        return List.of(rest, rest, v, rest, rest, rest, down);
    }

    /** A block whose attn_v, attn_output and ffn_down are {@code v}, {@code out} and {@code down}, the rest {@code rest}. */
    private static List<GgmlType> expect(GgmlType rest, GgmlType v, GgmlType out, GgmlType down) {
        return List.of(rest, rest, v, out, rest, rest, down);
    }

    @Test
    void lowBitFileTypesHaveLlamaQuantizesIds() {
        assertEquals(10, QuantMix.of("Q2_K", false).fileType());
        assertEquals(11, QuantMix.of("Q3_K_S", false).fileType());
        assertEquals(12, QuantMix.of("q3_k_m", false).fileType());
        assertEquals(13, QuantMix.of("Q3_K_L", false).fileType());
        assertEquals("Q3_K_M (pure)", QuantMix.of("Q3_K_M", true).name());
    }

    @Test
    void llama1bShapeLayerByLayerForQ2KAndQ3K() {
        // 16 layers, 32 query heads over 8 key/value heads: n_gqa() = 4.
        int n = 16;
        QuantMix q2 = QuantMix.of("Q2_K", false);
        QuantMix q3s = QuantMix.of("Q3_K_S", false);
        QuantMix q3m = QuantMix.of("Q3_K_M", false);
        QuantMix q3l = QuantMix.of("Q3_K_L", false);
        GgmlType q2k = GgmlType.Q2_K;
        GgmlType q3k = GgmlType.Q3_K;
        GgmlType q4k = GgmlType.Q4_K;
        GgmlType q5k = GgmlType.Q5_K;
        for (int i = 0; i < n; i++) {
            String at = "layer " + i;
            // Q2_K: attn_v in Q4_K (n_gqa() >= 4), attn_output and ffn_down in Q3_K.
            assertEquals(expect(q2k, q4k, q3k, q3k), block(q2, i, n, 4, 2048, 8192), at);
            assertEquals(expect(q3k, q3k, q3k, q3k), block(q3s, i, n, 4, 2048, 8192), at);
            // Q3_K_M: attn_v of layers 0, 1 and ffn_down of the first sixteenth (layer 0) in Q5_K, else Q4_K.
            assertEquals(expect(q3k, i < 2 ? q5k : q4k, q4k, i < 1 ? q5k : q4k), block(q3m, i, n, 4, 2048, 8192), at);
            assertEquals(expect(q3k, q5k, q5k, q5k), block(q3l, i, n, 4, 2048, 8192), at);
        }
        for (QuantMix m : List.of(q2, q3s, q3m, q3l)) {
            assertEquals(GgmlType.Q6_K, m.typeOf("token_embd.weight", 2048, -1, n, 4, true), m.name()); // tied
        }
        assertEquals(q2k, q2.typeOf("token_embd.weight", 2048, -1, n, 4, false), "untied embedding");
        assertEquals(q3k, q3m.typeOf("token_embd.weight", 2048, -1, n, 4, false), "untied embedding");
        // Fewer than four query heads per key/value head: Q2_K's attn_v drops to Q3_K.
        assertEquals(q3k, q2.typeOf("blk.5.attn_v.weight", 2048, 5, n, 3, false));
        assertEquals(q3k, q2.typeOf("blk.5.attn_v.weight", 2048, 5, n, 1, false));
    }

    @Test
    void qwen05bShapeLayerByLayerForQ2KAndQ3KWithTheirFallbacks() {
        // 24 layers, 14 / 2 heads: n_gqa() = 7. Rows of 896 fall back (Q2_K, Q3_K -> Q4_0, Q4_K -> Q5_0,
        // Q5_K -> Q5_1); ffn_down's rows of 4864 are whole super-blocks.
        int n = 24;
        GgmlType q40 = GgmlType.Q4_0;
        GgmlType q50 = GgmlType.Q5_0;
        GgmlType q51 = GgmlType.Q5_1;
        for (int i = 0; i < n; i++) {
            String at = "layer " + i;
            assertEquals(expect(q40, q50, q40, GgmlType.Q3_K), block(QuantMix.of("Q2_K", false), i, n, 7, 896, 4864), at);
            assertEquals(expect(q40, q40, q40, GgmlType.Q3_K), block(QuantMix.of("Q3_K_S", false), i, n, 7, 896, 4864), at);
            // The first sixteenth of 24 layers is layer 0 alone.
            assertEquals(expect(q40, i < 2 ? q51 : q50, q50, i < 1 ? GgmlType.Q5_K : GgmlType.Q4_K),
                    block(QuantMix.of("Q3_K_M", false), i, n, 7, 896, 4864), at);
            assertEquals(expect(q40, q51, q51, GgmlType.Q5_K), block(QuantMix.of("Q3_K_L", false), i, n, 7, 896, 4864), at);
        }
        for (String t : List.of("Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L")) {
            assertEquals(GgmlType.Q8_0, QuantMix.of(t, false).typeOf("token_embd.weight", 896, -1, n, 7, true), t);
        }
    }

    @Test
    void kQuantSmallAndMediumFileTypesHaveLlamaQuantizesIds() {
        assertEquals(14, QuantMix.of("Q4_K_S", false).fileType());
        assertEquals(15, QuantMix.of("Q4_K_M", false).fileType());
        assertEquals(16, QuantMix.of("Q5_K_S", false).fileType());
        assertEquals(17, QuantMix.of("q5_k_m", false).fileType());
        assertEquals("Q5_K_M (pure)", QuantMix.of("Q5_K_M", true).name());
    }

    @Test
    void llama1bShapeLayerByLayer() {
        int n = 16;
        QuantMix q4s = QuantMix.of("Q4_K_S", false);
        QuantMix q5s = QuantMix.of("Q5_K_S", false);
        QuantMix q5m = QuantMix.of("Q5_K_M", false);
        for (int i = 0; i < n; i++) {
            String at = "layer " + i;
            // Q4_K_S: attn_v of layers 0..3, ffn_down of the first eighth (0, 1) in Q5_K.
            assertEquals(expect(GgmlType.Q4_K, i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K, i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K),
                    block(q4s, i, n, 4, 2048, 8192), at);
            assertEquals(expect(GgmlType.Q5_K, GgmlType.Q5_K, GgmlType.Q5_K), block(q5s, i, n, 4, 2048, 8192), at);
            GgmlType more = MORE_BITS_16.contains(i) ? GgmlType.Q6_K : GgmlType.Q5_K;
            assertEquals(expect(GgmlType.Q5_K, more, more), block(q5m, i, n, 4, 2048, 8192), at);
        }
        for (QuantMix m : List.of(q4s, q5s, q5m)) {
            assertEquals(GgmlType.Q6_K, m.typeOf("token_embd.weight", 2048, -1, n, 4, true), m.name()); // tied
            assertEquals(GgmlType.Q6_K, m.typeOf("output.weight", 2048, -1, n, 4, true), m.name());
        }
        // An untied token embedding keeps the file's type.
        assertEquals(GgmlType.Q4_K, q4s.typeOf("token_embd.weight", 2048, -1, n, 4, false));
        assertEquals(GgmlType.Q5_K, q5m.typeOf("token_embd.weight", 2048, -1, n, 4, false));
    }

    @Test
    void qwen05bShapeLayerByLayerWithItsFallbacks() {
        // 24 layers; rows of 896 are not whole super-blocks (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0),
        // ffn_down's rows of 4864 are.
        int n = 24;
        QuantMix q4s = QuantMix.of("Q4_K_S", false);
        QuantMix q5s = QuantMix.of("Q5_K_S", false);
        QuantMix q5m = QuantMix.of("Q5_K_M", false);
        for (int i = 0; i < n; i++) {
            String at = "layer " + i;
            // attn_v: still layers 0..3 (a count, not an eighth); ffn_down: the first eighth, 0..2.
            assertEquals(expect(GgmlType.Q5_0, i < 4 ? GgmlType.Q5_1 : GgmlType.Q5_0, i < 3 ? GgmlType.Q5_K : GgmlType.Q4_K),
                    block(q4s, i, n, 7, 896, 4864), at);
            assertEquals(expect(GgmlType.Q5_1, GgmlType.Q5_1, GgmlType.Q5_K), block(q5s, i, n, 7, 896, 4864), at);
            boolean more = MORE_BITS_24.contains(i);
            assertEquals(expect(GgmlType.Q5_1, more ? GgmlType.Q8_0 : GgmlType.Q5_1, more ? GgmlType.Q6_K : GgmlType.Q5_K),
                    block(q5m, i, n, 7, 896, 4864), at);
        }
        for (QuantMix m : List.of(q4s, q5s, q5m)) {
            assertEquals(GgmlType.Q8_0, m.typeOf("token_embd.weight", 896, -1, n, 7, true), m.name());
        }
    }

    @Test
    void fusedQkvFollowsTheAttnVRules() {
        // Phi-3-mini-like: 32 layers of 3072.
        int n = 32;
        for (int i = 0; i < n; i++) {
            String qkv = "blk." + i + ".attn_qkv.weight";
            assertEquals(i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K, QuantMix.of("Q4_K_S", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            assertEquals(MORE_BITS_32.contains(i) ? GgmlType.Q6_K : GgmlType.Q5_K,
                    QuantMix.of("Q5_K_M", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            assertEquals(MORE_BITS_32.contains(i) ? GgmlType.Q6_K : GgmlType.Q4_K,
                    QuantMix.of("Q4_K_M", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            assertEquals(GgmlType.Q5_K, QuantMix.of("Q5_K_S", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            // Phi-3-mini's 32 / 32 heads: n_gqa() = 1, so Q2_K's attn_v rule gives Q3_K.
            assertEquals(GgmlType.Q3_K, QuantMix.of("Q2_K", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            assertEquals(i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K, QuantMix.of("Q3_K_M", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            assertEquals(GgmlType.Q5_K, QuantMix.of("Q3_K_L", false).typeOf(qkv, 3072, i, n, 1, false), qkv);
            // ffn_down's first eighth at 32 layers is 0..3 too.
            assertEquals(i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K,
                    QuantMix.of("Q4_K_S", false).typeOf("blk." + i + ".ffn_down.weight", 8192, i, n, 1, false));
        }
    }

    @Test
    void pureKQuantFilesPutEveryMatrixInTheirType() {
        for (String t : List.of("Q2_K", "Q3_K_M", "Q4_K_S", "Q5_K_S", "Q5_K_M")) {
            QuantMix m = QuantMix.of(t, true);
            GgmlType base = GgmlType.valueOf(t.substring(0, 4));
            assertEquals(base, m.typeOf("token_embd.weight", 2048, -1, 16, 4, true), t);
            assertEquals(expect(base, base, base), block(m, 0, 16, 4, 2048, 8192), t);
        }
    }

    @Test
    void quantizeCanWriteEveryTypeEveryMixPicksForEveryShape() {
        for (String t : QuantMix.names().split(", ")) {
            for (boolean pure : new boolean[] {false, true}) {
                QuantMix m = QuantMix.of(t, pure);
                for (ModelShape s : ModelShape.all()) {
                    assertTrue(Quantize.supports(m.typeOf("token_embd.weight", s.dim(), -1, s.layers(), s.heads() / s.kvHeads(), true)), m + " " + s.id());
                    for (int i = 0; i < s.layers(); i++) {
                        for (GgmlType g : block(m, i, s.layers(), s.heads() / s.kvHeads(), s.dim(), s.ffnDim())) {
                            assertTrue(Quantize.supports(g), m + " " + s.id() + " layer " + i + ": " + g);
                        }
                    }
                }
            }
        }
    }

    @Test
    void unknownTypeListsTheSupportedOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> QuantMix.of("Q2_K_S", false));
        assertEquals(true, e.getMessage().contains("Q4_K_M"), e.getMessage());
    }
}

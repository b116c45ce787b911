package dev.kiri.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiri.gguf.GgmlType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QuantMixTest {
    @Test
    void q4_0KeepsTheTiedOutputInQ6K() {
        QuantMix m = QuantMix.of("Q4_0", false);
        assertEquals(GgmlType.Q6_K, m.typeOf("token_embd.weight", 2048, -1, 16, true));
        assertEquals(GgmlType.Q4_0, m.typeOf("blk.0.attn_v.weight", 2048, 0, 16, false));
        assertEquals(GgmlType.Q4_0, m.typeOf("blk.0.ffn_down.weight", 8192, 0, 16, false));
        assertEquals(2, m.fileType());
    }

    @Test
    void pureAndQ8_0PutEveryMatrixInTheirType() {
        assertEquals(GgmlType.Q4_0, QuantMix.of("Q4_0", true).typeOf("token_embd.weight", 2048, -1, 16, true));
        assertEquals(GgmlType.Q8_0, QuantMix.of("Q8_0", false).typeOf("token_embd.weight", 2048, -1, 16, true));
        assertEquals(GgmlType.F16, QuantMix.of("F16", false).typeOf("token_embd.weight", 2048, -1, 16, true));
    }

    @Test
    void q4KMGivesMoreBitsToTheLlamaQuantizeLayers() {
        QuantMix m = QuantMix.of("Q4_K_M", false);
        List<Integer> q6 = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            if (m.typeOf("blk." + i + ".attn_v.weight", 2048, i, 16, false) == GgmlType.Q6_K) q6.add(i);
            assertEquals(m.typeOf("blk." + i + ".attn_v.weight", 2048, i, 16, false),
                    m.typeOf("blk." + i + ".ffn_down.weight", 8192, i, 16, false));
            assertEquals(GgmlType.Q4_K, m.typeOf("blk." + i + ".attn_q.weight", 2048, i, 16, false));
        }
        assertEquals(List.of(0, 1, 4, 7, 10, 13, 14, 15), q6);
    }

    @Test
    void kQuantsFallBackOnRowsThatAreNotWholeSuperBlocks() {
        QuantMix m = QuantMix.of("Q4_K_M", false);
        // Qwen2.5-0.5B: rows of 896
        assertEquals(GgmlType.Q5_0, m.typeOf("blk.2.attn_q.weight", 896, 2, 24, false));
        assertEquals(GgmlType.Q8_0, m.typeOf("token_embd.weight", 896, -1, 24, true));
        assertEquals(GgmlType.Q8_0, m.typeOf("blk.0.attn_v.weight", 896, 0, 24, false));
        assertEquals(GgmlType.Q4_K, m.typeOf("blk.4.ffn_down.weight", 4864, 4, 24, false));
        assertEquals(GgmlType.Q6_K, m.typeOf("blk.2.ffn_down.weight", 4864, 2, 24, false));
    }

    @Test
    void unknownTypeListsTheSupportedOnes() {
        var e = assertThrows(IllegalArgumentException.class, () -> QuantMix.of("Q3_K_S", false));
        assertEquals(true, e.getMessage().contains("Q4_K_M"), e.getMessage());
    }
}

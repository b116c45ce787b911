package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Q3_K and Q2_K beyond the byte comparison with the fixture models, the round trip against ggml's
 * own dequantization and the round trip's error in {@link QuantizeTest}: the corner cases of
 * llama.cpp's quantizers that random weights never reach.
 */
class QuantizeQ3KQ2KTest {

    /**
     * Four blocks of 16-value sub-blocks: (1) a positive constant, a sub-block a million times smaller
     * than the rest (its scale code rounds to zero, so llama.cpp keeps its fit's codes), a zero
     * sub-block, a negative constant, then growing ones; (2) only positive values, so every Q2_K min is
     * 0; (3) multiples of 0.25, full of rounding ties; (4) small values with one large outlier.
     */
    static float[] edgeBlocks() {
        float[] x = new float[4 * 256];
        for (int i = 0; i < 256; i++) {
            int j = i / 16;
            float s = (float) StrictMath.sin(0.7 * i + 0.3);
            x[i] = switch (j) {
                case 0 -> 0.3f;
                case 1 -> 1e-6f * s;
                case 2 -> 0f;
                case 3 -> -0.3f;
                default -> s * (j - 3);
            };
            x[256 + i] = 0.05f + Math.abs(s) * 0.01f * (1 + j);
            x[512 + i] = ((i * 37) % 9 - 4) * 0.25f;
            x[768 + i] = i == 100 ? 5f : 0.01f * s;
        }
        return x;
    }

    /** llama.cpp's quantize_row_q3_K_ref on {@link #edgeBlocks()} (libggml-base 0.25.1, CPU build), in hex. */
    private static final String EDGE_BLOCKS_Q3K =
            "d434242c28e8c8d0d4d434242c28e8d891959474646c69e99991959474646c693171e181e1d191f1513171e181e1d191"
            + "f7553775e485e4d797f7553774e485e41bb21b5dec45eff6b71bb21b5dec45ecc6973b523b7dec45ecc6973b523b7dec"
            + "df005081b366380be93a3a3a8d2e00000000000000000000000000000000000000000000000000000000000000000000"
            + "9064050040901400009064050040a45905409064150040a4590540906415e469060190b51a0140e469060190b91a0140"
            + "e46d060090b91a0140e46d060090a7958472514f2e0c050101018f1654d4b4acabab6b5b5754d4b4acabab6b4a4645c5"
            + "b5bdbbba7a4a4645c5b5bdbbbc6916c3fcad5a07f3bc6916c3fcad5a05f0bf6b16c1fcaf5a05f0bf6b16c1fc16c1fcaf"
            + "5a05f0bf6b16c1fcaf5a05f0bc6916c3fcad5a07f3bc6916c3fcad5a1ff0000001100000033000005a20dc3c2c2c23eb"
            + "cbdbdfdc3c2c2c2bebdb93979474646c6beb9b93979474646c6b3b35240d140e1f3b223b35240d140f1ffb513771e48d"
            + "e4df9ffb513770e48de81b721b5dec45eff6b71b721b5dec85ecc6873b523b7dfc85dcc6973b523b7dfc000000000000"
            + "0000aaaaa2aa0029";

    /** llama.cpp's quantize_row_q2_K_ref on {@link #edgeBlocks()} (libggml-base 0.25.1, CPU build), in hex. */
    private static final String EDGE_BLOCKS_Q2K =
            "00000000112234455667788a9bcdddff33337393c3c383532333337393c3c383503132337393c2c080503132337393c2"
            + "a3d6c9cc8c58253273a3d6c9cc8c58253273a3d6c9cc9c68353273a3d6c9cc9ce237713a04050606070708f9090a0b0c"
            + "0d7dfe0ffbffafabfbffbfabebffffafabfbffbfafeafeffbfabfaffbfafeafeffbfabfa6f96faffaf9beafebf6ba6fa"
            + "ffaf9be9febf6ba6faff6f9be9febf6ba6faff6fc31c2111ffffffffdcffffffffffffffffdcffff88d8dd2d227276b7"
            + "8b88d8dd2d227276b78b88d8dd2d226276b78b88d8dd2d22dd2d226276b78b88d8dd2d226276b78b88d8dd2d227276b7"
            + "8b88d8dd2d227276b029442cf0d0d0d0c0c00fc0c0d0c0c0d0f0e0f032332317ca0d0c1825323323170a0d0c58253233"
            + "6397cacc8c582532336397caa3d6c9cc8c58253273a3d6c9cc8c58353273a3d6c9cc9c68353273a3d6c9cc9c1d2f8311";

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K"})
    void cornerCaseBlocksGiveLlamaCppsBytes(GgmlType type) {
        byte[] ours = Quantize.quantize(type, edgeBlocks());
        QuantizeTest.assertSameBytes(type + " corner cases", type,
                HexFormat.of().parseHex(type == GgmlType.Q3_K ? EDGE_BLOCKS_Q3K : EDGE_BLOCKS_Q2K), ours);
        // Sub-block 1 of the first block really takes the zero-scale path and keeps non-zero codes.
        boolean nonZeroCode = false;
        if (type == GgmlType.Q3_K) {
            assertEquals(32, Dequant.q3kScale(MemorySegment.ofArray(ours), 96, 1), "sub-block 1's 6-bit scale (zero)");
            for (int l = 16; l < 32; l++) nonZeroCode |= (ours[32 + l] & 3) != 0;
        } else {
            assertEquals(0, ours[1] & 0xF, "sub-block 1's 4-bit scale");
            for (int l = 16; l < 32; l++) nonZeroCode |= (ours[16 + l] & 3) != 0;
        }
        assertTrue(nonZeroCode, "sub-block 1 keeps its fit's codes");
    }

    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K"})
    void cornerCaseBlocksRoundTripWithinBound(GgmlType type) {
        float[] x = edgeBlocks();
        float[] back = QuantizeTest.roundTrip(type, x);
        // Constant and zero sub-blocks come back constant, and the zero one as exact zeros.
        for (int i = 1; i < 16; i++) assertEquals(back[0], back[i], 0f, "positive constant sub-block");
        for (int i = 32; i < 48; i++) assertEquals(0f, back[i], 0f, "zero sub-block");
        for (int i = 49; i < 64; i++) assertEquals(back[48], back[i], 0f, "negative constant sub-block");
        // Block 4's outlier: both types give it its own sub-block scale, so it comes back within 5%.
        assertEquals(5f, back[768 + 100], 0.25f, "outlier");
        QuantizeTest.assertWithinSuperBlockBound(type, x, back, "corner-case blocks");
    }
}

package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/**
 * Q5_K beyond the byte comparison with the fixture model, the round trip against ggml's own
 * dequantization and the round trip's error in {@link QuantizeTest}: the corner cases of
 * llama.cpp's quantizer that random weights never reach (constant sub-blocks, a sub-block whose scale
 * rounds to 0, no negative values, exact ties).
 */
class QuantizeQ5KTest {

    /**
     * Three blocks: (1) a constant sub-block, a sub-block a million times smaller than the rest (its
     * 6-bit scale rounds to 0, so llama.cpp keeps the codes of its fit), a zero sub-block and growing
     * ones; (2) only positive values, so every min is 0; (3) multiples of 0.25, full of rounding ties.
     */
    static float[] edgeBlocks() {
        float[] x = new float[3 * 256];
        for (int i = 0; i < 256; i++) {
            int j = i / 32;
            float s = (float) StrictMath.sin(0.7 * i + 0.3);
            x[i] = switch (j) {
                case 0 -> 0.3f;
                case 1 -> 1e-6f * s;
                case 2 -> 0f;
                default -> s * (j - 2);
            };
            x[256 + i] = 0.05f + Math.abs(s) * 0.01f * (1 + j);
            x[512 + i] = ((i * 37) % 9 - 4) * 0.25f;
        }
        return x;
    }

    /** llama.cpp's quantize_row_q5_K_ref on {@link #edgeBlocks()} (its CPU build's libggml-base, ggml 0.25.1), in hex. */
    private static final String EDGE_BLOCKS_LLAMA_CPP =
            "1f1de72c4280c0cd4080c0cda97633ffd191a1a9ab2b4b5351d191a1a9ab2b4b5351d191a1a9ab2b4b5351d191a1a9ab"
            + "5e0e2eae5edefe9efe5e0e2ebe5edefe9efe5e0e2ebe6edefe9efe5e0e2ebe6e0030c060e0e070d0400030c070e0e070"
            + "d0400030d070e0e070d0300040d070e04fe89df3e064ce380f5fe79df3e064be390f5ff79cf3e064be290f5ff79cf3e0"
            + "05abf2d0459f190f6d05aaf2d0459f190f6d05aaf2d0459f190f6d05aaf2c0455604de04dde3e8ec0123e600e186fc0f"
            + "7fffffffffbfffffff7fffffffffbfffffff7fdfffffffbfffffff7fdfffffffccfeefaeaaedffcf7cccffef9eaaedff"
            + "cf7cdcffef9daaedffcf7cdcffef9daafecf4b85ecef8d37b9fecf4a85ecef8d37c9fecf4a85ecef8d47c9fecf3a85ec"
            + "ae0783ecdf5b22c8feae0783ecdf5b32c8feaef783ecdf5b32c8ffaef783fcdfc493fdcf2a3ed9ff8dd493fdcf293ed9"
            + "ff8dd494fdcf194ed9ff7dd494fdcf193c141c24ffffffffffffffffffffffffaa6a5a5655d5b5adabaa6a5a5655d5b5"
            + "adabaa6a5a5655d5b5adabaa6a5a56553074b8fc004387cb0f3074b8fc004387cb0f3074b8fc004387cb0f3074b8fc00"
            + "74b8fc004387cb0f3074b8fc004387cb0f3074b8fc004387cb0f3074b8fc0043b8fc004387cb0f3074b8fc004387cb0f"
            + "3074b8fc004387cb0f3074b8fc004387fc004387cb0f3074b8fc004387cb0f3074b8fc004387cb0f3074b8fc004387cb";

    @Test
    void cornerCaseBlocksGiveLlamaCppsBytes() {
        byte[] ours = Quantize.quantize(GgmlType.Q5_K, edgeBlocks());
        QuantizeTest.assertSameBytes("Q5_K corner cases", GgmlType.Q5_K, HexFormat.of().parseHex(EDGE_BLOCKS_LLAMA_CPP), ours);
        // The second sub-block of the first block really takes the zero-scale path with non-zero codes.
        assertEquals(0, ours[5] & 63, "sub-block 1's 6-bit scale");
        boolean nonZeroCode = false;
        for (int l = 0; l < 32; l++) nonZeroCode |= (ours[48 + l] & 0xF0) != 0;
        assertTrue(nonZeroCode, "sub-block 1 keeps its fit's codes");
    }

    @Test
    void cornerCaseBlocksRoundTripWithinOneStep() {
        float[] x = edgeBlocks();
        float[] back = QuantizeTest.roundTrip(GgmlType.Q5_K, x);
        QuantizeTest.assertWithinSuperBlockBound(GgmlType.Q5_K, x, back, "corner-case blocks");
        // The constant sub-block comes back constant, and the zero sub-block as exact zeros (its min is 0).
        for (int i = 1; i < 32; i++) assertEquals(back[0], back[i], 0f, "constant sub-block");
        for (int i = 64; i < 96; i++) assertEquals(0f, back[i], 0f, "zero sub-block");
    }
}

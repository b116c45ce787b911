package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class VectorGemmTest {
    static final List<GgmlType> TYPES = MatmulTestData.TYPES.stream()
            .filter(t -> VectorGemm.supports(t) || VectorGemm.dequantizes(t)).toList();

    /**
     * A panel holds exactly the reference dequantization's values (the vector dequantizers
     * repeat its float operations in its order), zeros in the rows past {@code count}; panels of
     * 1..6 rows starting at every row of a matrix whose rows span several blocks.
     */
    @ParameterizedTest
    @FieldSource("TYPES")
    void panelsAreTheReferenceDequantizationBitForBit(GgmlType t) {
        Random rnd = new Random(13L * t.id() + 3);
        int cols = t.isQuantized() ? 3 * t.blockSize() : 37;
        int rows = 9;
        try (Arena arena = Arena.ofShared()) {
            Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
            float[] expected = new float[cols];
            float[] panel = new float[VectorGemm.PANEL_ROWS * cols];
            for (int r0 = 0; r0 < rows; r0++) {
                for (int count = 1; count <= Math.min(VectorGemm.PANEL_ROWS, rows - r0); count++) {
                    java.util.Arrays.fill(panel, Float.NaN);
                    VectorGemm.panel(t, w.data(), r0 * w.rowBytes(), w.rowBytes(), count, cols, panel);
                    for (int i = 0; i < VectorGemm.PANEL_ROWS; i++) {
                        if (i < count) {
                            Dequant.row(t, w.data(), (r0 + i) * w.rowBytes(), expected, 0, cols);
                        } else {
                            java.util.Arrays.fill(expected, 0);
                        }
                        for (int c = 0; c < cols; c++) {
                            int at = i * cols + c;
                            int first = r0, row = r0 + i, col = c, n = count;
                            assertEquals(Float.floatToRawIntBits(expected[c]), Float.floatToRawIntBits(panel[at]),
                                    () -> t + " panel of " + n + " rows from row " + first + ": row " + row
                                            + " column " + col + ": " + panel[at] + " vs reference " + expected[col]);
                        }
                    }
                }
            }
        }
    }
}

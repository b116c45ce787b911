package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InterleaveTest {
    /**
     * A row read back from a copy ({@link Interleave#dequantizeRow}: the embedding look-ups of a
     * tied output matrix) is the file's row as {@link Dequant#row} gives it, bit for bit: every row
     * of random matrices (two groups and more for Q4_0, one and three blocks per row for the
     * K-quants), rows of a slice of the copy, and the file's row for a matrix without a copy.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void rowsReadFromTheCopyAreTheFilesRows(GgmlType t) {
        Random rnd = new Random(31 + t.ordinal());
        try (Arena arena = Arena.ofShared()) {
            for (int cols : new int[] {256, 768}) {
                int rows = 24;
                Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                Weights copy = Interleave.interleave(plain, arena);
                assertNotNull(copy.interleaved(), t + " has a copy");
                for (int r = 0; r < rows; r++) {
                    assertRowsEqual(plain, r, copy, r, t + " " + rows + "x" + cols + " row " + r);
                }
                Weights slice = copy.rowSlice("slice", 8, 16);
                assertNotNull(slice.interleaved(), "the slice keeps its part of the copy");
                for (int r = 0; r < 16; r++) assertRowsEqual(plain, 8 + r, slice, r, t + " slice row " + r);
                // Without a copy: the file's row.
                assertRowsEqual(plain, 5, plain, 5, t + " in place");
                assertThrows(IndexOutOfBoundsException.class, () -> Interleave.dequantizeRow(copy, rows, new float[cols], 0));
                assertThrows(IndexOutOfBoundsException.class, () -> Interleave.dequantizeRow(copy, 0, new float[cols], 1));
            }
        }
    }

    private static void assertRowsEqual(Weights file, int fileRow, Weights w, int row, String label) {
        int cols = file.cols();
        float[] expected = new float[cols + 3];
        Dequant.row(file.type(), file.data(), fileRow * file.rowBytes(), expected, 3, cols);
        float[] got = new float[cols + 3];
        Interleave.dequantizeRow(w, row, got, 3);
        for (int c = 0; c < cols; c++) {
            assertEquals(Float.floatToRawIntBits(expected[3 + c]), Float.floatToRawIntBits(got[3 + c]),
                    label + " col " + c + ": " + expected[3 + c] + " vs " + got[3 + c]);
        }
    }
}

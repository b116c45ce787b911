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
     * of random matrices (two groups and more for Q4_0; for the K-quants one and three blocks per
     * row, and 25, which the copy holds in two column chunks per band of sixteen rows, with a
     * short last band), rows of a slice of the copy, and the file's row for a matrix without a copy.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void rowsReadFromTheCopyAreTheFilesRows(GgmlType t) {
        Random rnd = new Random(31 + t.ordinal());
        try (Arena arena = Arena.ofShared()) {
            int[] widths = t == GgmlType.Q4_0 ? new int[] {256, 768} : new int[] {256, 768, 6400};
            for (int cols : widths) {
                int rows = 40;
                Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                Weights copy = Interleave.interleave(plain, arena);
                assertNotNull(copy.interleaved(), t + " has a copy");
                assertEquals(Interleave.bytes(plain), copy.interleaved().byteSize(), t + " the copy's size");
                for (int r = 0; r < rows; r++) {
                    assertRowsEqual(plain, r, copy, r, t + " " + rows + "x" + cols + " row " + r);
                }
                boolean chunked = cols > 6144;
                // A band (or group) boundary to the end, including the short last band.
                Weights slice = copy.rowSlice("slice", 16, 24);
                assertNotNull(slice.interleaved(), "the slice keeps its part of the copy");
                for (int r = 0; r < 24; r++) assertRowsEqual(plain, 16 + r, slice, r, t + " slice row " + r);
                // Between groups of eight: on the copy unless it is cut into column chunks (bands of sixteen).
                Weights inner = copy.rowSlice("inner", 8, 16);
                assertEquals(!chunked, inner.interleaved() != null, t + " " + cols + ": rows 8..23 keep a copy");
                for (int r = 0; r < 16; r++) assertRowsEqual(plain, 8 + r, inner, r, t + " inner slice row " + r);
                // Without a copy: the file's row.
                assertRowsEqual(plain, 5, plain, 5, t + " in place");
                assertThrows(IndexOutOfBoundsException.class, () -> Interleave.dequantizeRow(copy, rows, new float[cols], 0));
                assertThrows(IndexOutOfBoundsException.class, () -> Interleave.dequantizeRow(copy, 0, new float[cols], 1));
            }
        }
    }

    /**
     * The chunked layout's offsets: every block of every row has its own place, the places fill the
     * copy without a gap, a row's chunk is contiguous, and a band's chunks follow each other; with
     * at most sixteen blocks per row it is rows one after the other.
     */
    @org.junit.jupiter.api.Test
    void chunkedOffsetsTileTheCopy() {
        for (int nb : new int[] {1, 16, 17, 24, 25, 32, 33, 35, 56}) {
            for (int rows : new int[] {1, 15, 16, 17, 40}) {
                int span = Interleave.span(nb);
                assertEquals(true, nb <= Interleave.CHUNK_FROM ? span == nb
                        : span <= Interleave.MAX_SPAN && span * ((nb + Interleave.MAX_SPAN - 1) / Interleave.MAX_SPAN) >= nb,
                        nb + " blocks: span " + span);
                boolean[] seen = new boolean[rows * nb];
                for (int r = 0; r < rows; r++) {
                    for (int b = 0; b < nb; b++) {
                        long at = Interleave.blockOffset(rows, nb, 7, r, b);
                        assertEquals(0, at % 7);
                        int i = (int) (at / 7);
                        assertEquals(false, seen[i], nb + "x" + rows + ": block " + r + "," + b + " shares place " + i);
                        seen[i] = true;
                        if (nb <= Interleave.CHUNK_FROM) assertEquals((long) (r * nb + b) * 7, at);
                        if (b % span != 0) assertEquals(Interleave.blockOffset(rows, nb, 7, r, b - 1) + 7, at, "a row's chunk is contiguous");
                    }
                }
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

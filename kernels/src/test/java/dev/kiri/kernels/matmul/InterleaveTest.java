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
     * of random matrices of 80 rows (rows short enough for one column chunk, and rows of 6176 or
     * 6400 values, which the copy holds in two column chunks per band of 64 rows, with a short last
     * band), rows of slices of the copy, and the file's row for a matrix without a copy.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q5_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void rowsReadFromTheCopyAreTheFilesRows(GgmlType t) {
        Random rnd = new Random(31 + t.ordinal());
        try (Arena arena = Arena.ofShared()) {
            int[] widths = Interleave.grouped(t) ? new int[] {256, 768, 6176} : new int[] {256, 768, 6400};
            for (int cols : widths) {
                int rows = 80;
                Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                Weights copy = Interleave.interleave(plain, arena);
                assertNotNull(copy.interleaved(), t + " has a copy");
                assertEquals(Interleave.bytes(plain), copy.interleaved().byteSize(), t + " the copy's size");
                for (int r = 0; r < rows; r++) {
                    assertRowsEqual(plain, r, copy, r, t + " " + rows + "x" + cols + " row " + r);
                }
                boolean chunked = cols > 6144;
                // A band boundary to the end: the short last band.
                Weights slice = copy.rowSlice("slice", 64, 16);
                assertNotNull(slice.interleaved(), "the slice keeps its part of the copy");
                for (int r = 0; r < 16; r++) assertRowsEqual(plain, 64 + r, slice, r, t + " slice row " + r);
                // Between groups of eight: on the copy unless it is cut into column chunks (bands of 64 rows).
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
     * The chunked layouts' offsets (K-quant rows, Q4_0 groups): every block of every unit has its own
     * place, the places fill the copy without a gap, a unit's chunk is contiguous; chunks hold at
     * most 4096 values and cover the row; with rows of at most 6144 values the copy is unit after
     * unit.
     */
    @org.junit.jupiter.api.Test
    void chunkedOffsetsTileTheCopy() {
        for (boolean q4_0 : new boolean[] {false, true}) {
            int values = q4_0 ? 32 : 256;
            int[] blocks = q4_0 ? new int[] {1, 128, 192, 193, 256, 257, 448} : new int[] {1, 16, 24, 25, 32, 33, 35, 56};
            for (int nb : blocks) {
                int span = Interleave.span(nb, values);
                boolean whole = nb * values <= Interleave.CHUNK_FROM;
                int max = Interleave.MAX_CHUNK / values;
                assertEquals(true, whole ? span == nb : span <= max && span * ((nb + max - 1) / max) >= nb, nb + " blocks: span " + span);
                for (int units : new int[] {1, 7, 8, 9, 63, 64, 65, 130}) {
                    boolean[] seen = new boolean[units * nb];
                    for (int u = 0; u < units; u++) {
                        for (int b = 0; b < nb; b++) {
                            long at = q4_0 ? Interleave.q4_0Offset(units, nb, u, b) : Interleave.blockOffset(units, nb, 7, u, b);
                            int size = q4_0 ? Interleave.Q4_0_GROUP_BLOCK : 7;
                            assertEquals(0, at % size);
                            int i = (int) (at / size);
                            assertEquals(false, seen[i], nb + "x" + units + ": block " + u + "," + b + " shares place " + i);
                            seen[i] = true;
                            if (whole) assertEquals((long) (u * nb + b) * size, at);
                            if (b % span != 0) {
                                long prev = q4_0 ? Interleave.q4_0Offset(units, nb, u, b - 1) : Interleave.blockOffset(units, nb, 7, u, b - 1);
                                assertEquals(prev + size, at, "a unit's chunk is contiguous");
                            }
                        }
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

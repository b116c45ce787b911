package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.FieldSource;

class VectorMatmulTest {
    static final List<GgmlType> TYPES = MatmulTestData.TYPES;
    static final List<GgmlType> FIXTURE_TYPES = TYPES;

    private static ThreadPool pool1;
    private static ThreadPool pool3;

    @BeforeAll
    static void pools() {
        pool1 = new ThreadPool(1);
        pool3 = new ThreadPool(3);
    }

    @AfterAll
    static void closePools() {
        pool1.close();
        pool3.close();
    }

    /**
     * Row counts that are not multiples of the tile or the thread split, column counts of one and
     * several blocks (and, for float weights, not multiples of the vector length), batches of 1..7.
     */
    @ParameterizedTest
    @FieldSource("TYPES")
    void agreesWithScalarReferenceOnRandomWeightsOfAwkwardShapes(GgmlType t) {
        Random rnd = new Random(31L * t.id() + 1);
        int bs = t.blockSize();
        int[] colsList = t.isQuantized() ? new int[] {bs, 3 * bs, 9 * bs} : new int[] {1, 9, 100, 264};
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul();
             VectorMatmul v1 = new VectorMatmul(pool1); VectorMatmul v3 = new VectorMatmul(pool3)) {
            for (int cols : colsList) {
                for (int rows : new int[] {1, 7, 33, 130}) {
                    Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    float[][] deq = MatmulTestData.dequantize(w);
                    for (int n : new int[] {1, 2, 7}) {
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        agreesWithReference(ref, new VectorMatmul[] {v1, v3}, w, w, deq, x, n, t + " " + rows + "x" + cols + " n=" + n);
                    }
                }
            }
        }
    }

    /**
     * Q4_0 and Q8_0 weights with their rows interleaved in groups of eight ({@link Interleave}), and Q5_0
     * widened into the Q8_0 layout: decode and
     * batches (Q8_0's and Q5_0's from 32 rows through panels read from the copy), row counts of
     * one and several groups, odd and even block counts, rows of 6176 values (two column chunks per
     * band of 64 rows, a short last band), against the scalar reference on the file layout; row
     * slices keep the copy only on group boundaries (bands, for the chunked copy) and still agree.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q5_0"})
    void interleavedGroupsAgreeWithScalarReference(GgmlType t) {
        Random rnd = new Random(808);
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul();
             VectorMatmul v1 = new VectorMatmul(pool1); VectorMatmul v3 = new VectorMatmul(pool3)) {
            for (int cols : new int[] {32, 96, 2080, 4128, 6176}) {
                for (int rows : new int[] {8, 24, 136}) {
                    Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    Weights w = Interleave.interleave(plain, arena);
                    assertTrue(w.interleaved() != null, "interleaved " + rows + "x" + cols);
                    assertEquals(Interleave.bytes(plain), w.interleaved().byteSize());
                    float[][] deq = MatmulTestData.dequantize(plain);
                    for (int n : new int[] {1, 2, 7, 33, 40}) {
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        agreesWithReference(ref, new VectorMatmul[] {v1, v3}, plain, w, deq, x, n, t + "x8 " + rows + "x" + cols + " n=" + n);
                    }
                }
            }
            Weights plain = MatmulTestData.randomWeights(t, 40, 64, rnd, arena);
            Weights w = Interleave.interleave(plain, arena);
            float[] x = MatmulTestData.randomActivations(64, rnd);
            for (int[] slice : new int[][] {{8, 16}, {0, 40}, {32, 8}, {4, 16}, {8, 12}}) {
                Weights part = w.rowSlice("part", slice[0], slice[1]);
                boolean aligned = slice[0] % 8 == 0 && slice[1] % 8 == 0;
                assertEquals(aligned, part.interleaved() != null, "slice " + slice[0] + "+" + slice[1]);
                Weights plainPart = plain.rowSlice("part", slice[0], slice[1]);
                float[] expected = new float[slice[1]];
                ref.matvec(plainPart, x, 0, expected, 0);
                float[] got = new float[slice[1]];
                v3.matvec(part, x, 0, got, 0);
                assertClose(plainPart, MatmulTestData.dequantize(plainPart), x, 1, expected, got, "slice " + slice[0] + "+" + slice[1]);
            }
            // Rows of 6176 values are held in two column chunks per band of 64 rows: cut on bands (or to the last row) only.
            chunkedSlicesAgree(t, 6176, new int[][] {{64, 16}, {0, 64}, {8, 16}, {16, 64}}, ref, v3, rnd, arena);
        }
    }

    /**
     * Q2_K, Q3_K, Q4_K, Q5_K and Q6_K weights with each block's values (nibbles, fifth bits, bit pairs) reordered ({@link Interleave}):
     * decode, small batches (the reordered kernel per activation row) and batches of 32 and more
     * (dequantized panels read from the copy), one to several blocks per row, row counts that are
     * not multiples of eight, against the scalar reference on the file layout; row slices keep their
     * part of the copy.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void reorderedKQuantsAgreeWithScalarReference(GgmlType t) {
        Random rnd = new Random(4040 + t.ordinal());
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul();
             VectorMatmul v1 = new VectorMatmul(pool1); VectorMatmul v3 = new VectorMatmul(pool3)) {
            // 6400 columns: 25 blocks, held in two column chunks (13 and 12 blocks) per band of 64 rows.
            for (int cols : new int[] {256, 768, 2304, 6400}) {
                for (int rows : cols > 6144 ? new int[] {1, 13, 80} : new int[] {1, 13, 40}) {
                    Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    Weights w = Interleave.interleave(plain, arena);
                    assertTrue(w.interleaved() != null, "reordered " + rows + "x" + cols);
                    assertEquals(Interleave.bytes(plain), w.interleaved().byteSize());
                    float[][] deq = MatmulTestData.dequantize(plain);
                    for (int n : new int[] {1, 2, 7, 33, 40}) {
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        agreesWithReference(ref, new VectorMatmul[] {v1, v3}, plain, w, deq, x, n, t + " copy " + rows + "x" + cols + " n=" + n);
                    }
                }
            }
            Weights plain = MatmulTestData.randomWeights(t, 21, 512, rnd, arena);
            Weights w = Interleave.interleave(plain, arena);
            for (int[] slice : new int[][] {{3, 7}, {0, 21}, {20, 1}}) {
                Weights part = w.rowSlice("part", slice[0], slice[1]);
                assertTrue(part.interleaved() != null, "slice " + slice[0] + "+" + slice[1]);
                Weights plainPart = plain.rowSlice("part", slice[0], slice[1]);
                for (int n : new int[] {1, 40}) {
                    float[] x = MatmulTestData.randomActivations(n * 512, rnd);
                    agreesWithReference(ref, new VectorMatmul[] {v3}, plainPart, part, MatmulTestData.dequantize(plainPart), x, n,
                            t + " slice " + slice[0] + "+" + slice[1] + " n=" + n);
                }
            }
            // A copy in column chunks is cut on its bands of 64 rows (or to the last row), else read in place.
            chunkedSlicesAgree(t, 6400, new int[][] {{64, 16}, {0, 64}, {3, 7}, {16, 8}}, ref, v3, rnd, arena);
        }
    }

    /**
     * The interleaved Q4_0 and Q8_0 kernels convert their F16 scales themselves (bit manipulation, not
     * {@link Float#float16ToFloat}): every kind of finite scale, in every lane of a group (the
     * smallest and largest subnormals, zeros of both signs, the largest normal, negative and
     * positive normals), against the scalar reference, which converts them with the JDK.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q8_0", "Q5_0"})
    void interleavedGroupsReadEveryFiniteScale(GgmlType t) {
        short[] scales = {0x0001, 0x03FF, 0x0000, (short) 0x8000, 0x7BFF, (short) 0xFBFF, 0x0400, (short) 0xC000,
                (short) 0x8001, 0x3C00, 0x1234, (short) 0x83FF};
        Random rnd = new Random(4242);
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul();
             VectorMatmul v1 = new VectorMatmul(pool1)) {
            int rows = 16, cols = 96;
            Weights plain = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
            long block = t.bytesPerBlock();
            for (int r = 0; r < rows; r++) {
                for (int b = 0; b < cols / 32; b++) {
                    plain.data().set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, r * plain.rowBytes() + block * b,
                            scales[(3 * r + b) % scales.length]);
                }
            }
            Weights w = Interleave.interleave(plain, arena);
            float[][] deq = MatmulTestData.dequantize(plain);
            for (int n : new int[] {1, 3}) {
                float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                agreesWithReference(ref, new VectorMatmul[] {v1}, plain, w, deq, x, n, t + "x8 scales n=" + n);
            }
        }
    }

    /**
     * Which matrices get a copy: Q4_0, Q8_0 and Q5_0 (widened to the Q8_0 layout) in whole groups of
     * eight rows, the K-quants at any row count, nothing else.
     */
    @Test
    void interleaveTakesGroupsInWholeGroupsAndKQuantsAtAnyRowCount() {
        Random rnd = new Random(9);
        try (Arena arena = Arena.ofShared()) {
            for (GgmlType g : new GgmlType[] {GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q5_0}) {
                Weights odd = MatmulTestData.randomWeights(g, 12, 64, rnd, arena);
                assertTrue(!Interleave.supports(odd) && Interleave.interleave(odd, arena) == odd, g + " in 12 rows");
                Weights whole = MatmulTestData.randomWeights(g, 16, 64, rnd, arena);
                assertTrue(Interleave.supports(whole) && Interleave.interleave(whole, arena).interleaved() != null, g + " in 16 rows");
                // Q5_0's 22-byte blocks become Q8_0's 34.
                long size = g == GgmlType.Q5_0 ? whole.byteSize() / 22 * 34 : whole.byteSize();
                assertEquals(size, Interleave.bytes(whole), g + ": the copy's size");
            }
            for (GgmlType k : new GgmlType[] {GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
                Weights w = MatmulTestData.randomWeights(k, 13, 256, rnd, arena);
                assertTrue(Interleave.supports(w) && Interleave.interleave(w, arena).interleaved() != null, k.toString());
                // Q2_K's and Q6_K's copies have the file's size; Q3_K's, Q4_K's and Q5_K's unpack 12 bytes of scales to 16 per block.
                long size = switch (k) {
                    case Q3_K -> w.byteSize() / 110 * 114;
                    case Q4_K -> w.byteSize() / 144 * 148;
                    case Q5_K -> w.byteSize() / 176 * 180;
                    default -> w.byteSize();
                };
                assertEquals(size, Interleave.bytes(w), k + ": the copy's size");
            }
            for (GgmlType other : new GgmlType[] {GgmlType.IQ4_XS, GgmlType.IQ4_NL, GgmlType.Q4_1, GgmlType.Q5_1}) {
                Weights w = MatmulTestData.randomWeights(other, 16, 256, rnd, arena);
                assertTrue(!Interleave.supports(w) && Interleave.interleave(w, arena) == w, other.toString());
            }
            Weights q4 = MatmulTestData.randomWeights(GgmlType.Q4_0, 16, 64, rnd, arena);
            Weights once = Interleave.interleave(q4, arena);
            assertTrue(Interleave.interleave(once, arena) == once, "an interleaved matrix is not copied again");
        }
    }

    /**
     * Q4_0 decode has two kernels: blocks in pairs for rows up to
     * {@link Activations#Q4_PAIRS_MAX_COLS} values, 16-bit lanes beyond. Both, on even and odd block
     * counts (the pair kernel's odd last block), at and just past the limit, rows that start at odd
     * activation blocks (batches over an odd block count).
     */
    @Test
    void q4_0RowsAroundThePairKernelsLimitAgreeWithScalarReference() {
        Random rnd = new Random(4040);
        int limit = Activations.Q4_PAIRS_MAX_COLS;
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul();
             VectorMatmul v1 = new VectorMatmul(pool1); VectorMatmul v3 = new VectorMatmul(pool3)) {
            for (int cols : new int[] {64, 2080, limit - 32, limit, limit + 32, limit + 64}) {
                for (int rows : new int[] {1, 7, 33}) {
                    Weights w = MatmulTestData.randomWeights(GgmlType.Q4_0, rows, cols, rnd, arena);
                    float[][] deq = MatmulTestData.dequantize(w);
                    for (int n : new int[] {1, 3}) {
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        agreesWithReference(ref, new VectorMatmul[] {v1, v3}, w, w, deq, x, n, "Q4_0 " + rows + "x" + cols + " n=" + n);
                    }
                }
            }
        }
    }

    /**
     * Batches from {@link VectorMatmul#QUANTIZED_GEMM_MIN_BATCH} rows on, where quantized weights
     * are dequantized into panels for the float micro-kernel: still the scalar reference's integer
     * block sums up to float rounding (row counts around the panel height, batches around the
     * micro-kernel's batch block and the blocks one panel serves).
     */
    @ParameterizedTest
    @FieldSource("TYPES")
    void batchesAtAndAboveTheGemmThresholdAgreeWithScalarReference(GgmlType t) {
        Random rnd = new Random(17L * t.id() + 5);
        int bs = t.blockSize();
        int[] colsList = t.isQuantized() ? new int[] {bs, 3 * bs} : new int[] {9, 264};
        int min = VectorMatmul.QUANTIZED_GEMM_MIN_BATCH;
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul(); VectorMatmul v = new VectorMatmul(pool3)) {
            for (int cols : colsList) {
                for (int rows : new int[] {5, 13}) {
                    Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    float[][] deq = MatmulTestData.dequantize(w);
                    for (int n : new int[] {min, 37, 130}) {
                        float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                        float[] expected = new float[n * rows];
                        ref.matmul(w, x, expected, n);
                        float[] got = new float[n * rows];
                        v.matmul(w, x, got, n);
                        assertClose(w, deq, x, n, expected, got, t + " " + rows + "x" + cols + " n=" + n);
                    }
                }
            }
        }
    }

    static final List<GgmlType> EXTREME_TYPES = List.of(GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K,
            GgmlType.Q5_K, GgmlType.Q6_K);

    /**
     * The decode kernels' integer tricks at their limits: every quantized value at the end of its
     * range (all bits set, all clear, or a random mix of the two, so that products take both
     * signs), the sub-block scales at -128, 127 or a mix (Q6_K), 63 (Q4_K, Q5_K), 15 (Q2_K) or 31 (Q3_K: 63 - 32), and activations that
     * quantize to ±127 everywhere (all positive, alternating, random signs); in place, and from the
     * copy of the types that have one ({@link Interleave}).
     */
    @ParameterizedTest
    @FieldSource("EXTREME_TYPES")
    void extremeQuantizedValuesAgreeWithScalarReference(GgmlType t) {
        Random rnd = new Random(77L * t.id());
        // Q4_0, Q8_0 and Q5_0 have a copy in whole groups of eight rows only.
        int rows = Interleave.grouped(t) ? 24 : 19, cols = 4 * 256;
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul(); VectorMatmul v = new VectorMatmul(pool3)) {
            for (int pattern = 0; pattern < 3; pattern++) {
                Weights plain = extremeWeights(t, rows, cols, pattern, rnd, arena);
                float[][] deq = MatmulTestData.dequantize(plain);
                for (int signs = 0; signs < 3; signs++) {
                    float[] x = new float[cols];
                    for (int i = 0; i < cols; i++) {
                        boolean negative = signs == 1 ? (i & 1) != 0 : signs == 2 && rnd.nextBoolean();
                        x[i] = negative ? -1f : 1f;
                    }
                    float[] expected = new float[rows];
                    ref.matvec(plain, x, 0, expected, 0);
                    Weights copy = Interleave.interleave(plain, arena);
                    assertNotNull(copy.interleaved(), t + ": the copy this test checks was not made");
                    for (Weights w : new Weights[] {plain, copy}) {
                        float[] got = new float[rows];
                        v.matvec(w, x, 0, got, 0);
                        assertClose(plain, deq, x, 1, expected, got, t + (w.interleaved() != null ? " copy" : "") + " pattern " + pattern + " signs " + signs);
                    }
                }
            }
        }
    }

    /** Pattern 0: every value byte 0xFF (Q8_0: 0x80); 1: 0x00 for the values and the extreme scales; 2: a random mix. */
    private static Weights extremeWeights(GgmlType t, int rows, int cols, int pattern, Random rnd, Arena arena) {
        long size = t.byteSize((long) rows * cols);
        var seg = arena.allocate(size, 64);
        for (long o = 0; o < size; o++) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o, (byte) (pattern == 0 ? 0xFF : pattern == 1 ? 0 : rnd.nextBoolean() ? 0xFF : 0));
        }
        var i16 = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        long blocks = (long) rows * cols / t.blockSize();
        for (long b = 0; b < blocks; b++) {
            long o = b * t.bytesPerBlock();
            switch (t) {
                case Q8_0 -> {
                    seg.set(i16, o, Float.floatToFloat16(0.01f));
                    // Pattern 0: every value -128, so that the copy kernels' two-product 16-bit sums reach
                    // 2·128·127 = 32512; pattern 1: -128 and 127 mixed.
                    if (pattern == 0) for (int j = 0; j < 32; j++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 2 + j, (byte) 0x80);
                    if (pattern == 1) for (int j = 0; j < 32; j++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (j % 3 == 0 ? 0x80 : 0x7F));
                }
                // Q5_0: pattern 0 every value 31 - 16 = 15, pattern 1 every value -16 (the widened copy's bytes' ends).
                case Q4_0, Q5_0 -> seg.set(i16, o, Float.floatToFloat16(0.01f));
                case Q3_K -> {
                    seg.set(i16, o + 108, Float.floatToFloat16(0.01f));
                    for (int j = 0; j < 12; j++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 96 + j, (byte) 0xFF);
                }
                case Q2_K -> {
                    seg.set(i16, o + 80, Float.floatToFloat16(0.01f));
                    seg.set(i16, o + 82, Float.floatToFloat16(0.005f));
                    for (int j = 0; j < 16; j++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + j, (byte) 0xFF);
                }
                case Q4_K, Q5_K -> {
                    seg.set(i16, o, Float.floatToFloat16(0.01f));
                    seg.set(i16, o + 2, Float.floatToFloat16(0.005f));
                    for (int j = 0; j < 12; j++) seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 4 + j, (byte) 0xFF);
                }
                case Q6_K -> {
                    seg.set(i16, o + 208, Float.floatToFloat16(0.01f));
                    for (int j = 0; j < 16; j++) {
                        byte sc = switch (pattern) {
                            case 0 -> (byte) 0x80;
                            case 1 -> (byte) 0x7F;
                            default -> rnd.nextBoolean() ? (byte) 0x80 : (byte) 0x7F;
                        };
                        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, o + 192 + j, sc);
                    }
                }
                default -> throw new IllegalArgumentException(t.toString());
            }
        }
        return new Weights("extreme." + t.ggmlName(), t, seg, rows, cols);
    }

    @ParameterizedTest
    @FieldSource("TYPES")
    void matvecHonoursOffsetsAndLeavesTheRestOfTheOutputAlone(GgmlType t) {
        Random rnd = new Random(t.id());
        int cols = t.isQuantized() ? 2 * t.blockSize() : 40;
        try (Arena arena = Arena.ofShared(); ScalarMatmul ref = new ScalarMatmul(); VectorMatmul v = new VectorMatmul(pool3)) {
            Weights w = MatmulTestData.randomWeights(t, 50, cols, rnd, arena);
            float[] x = MatmulTestData.randomActivations(cols + 5, rnd);
            float[] expected = new float[50];
            ref.matvec(w, x, 5, expected, 0);
            float[] y = new float[60];
            Arrays.fill(y, -7f);
            v.matvec(w, x, 5, y, 4);
            float[][] deq = MatmulTestData.dequantize(w);
            float[] xs = Arrays.copyOfRange(x, 5, x.length);
            assertClose(w, deq, xs, 1, expected, Arrays.copyOfRange(y, 4, 54), t.toString());
            for (int i = 0; i < 4; i++) assertEquals(-7f, y[i]);
            for (int i = 54; i < 60; i++) assertEquals(-7f, y[i]);
        }
    }

    /** Every 2-D weight of the tiny llama fixture of each type, vector against scalar. */
    @ParameterizedTest
    @FieldSource("FIXTURE_TYPES")
    void agreesWithScalarReferenceOnEveryFixtureWeight(GgmlType t) throws IOException {
        String stem = "tiny-llama-" + t.ggmlName();
        try (GgufFile f = GgufFile.open(Fixtures.file("models/" + stem + ".gguf"));
             ScalarMatmul ref = new ScalarMatmul(); VectorMatmul v = new VectorMatmul(pool3)) {
            int checked = 0;
            for (GgufTensor tensor : f.tensors()) {
                if (tensor.shape().length != 2 || tensor.type() != t) continue;
                Weights w = Weights.of(tensor);
                float[][] deq = MatmulTestData.dequantize(w);
                int n = 3;
                float[] x = MatmulTestData.randomActivations(n * w.cols(), new Random(checked));
                float[] expected = new float[n * w.rows()];
                ref.matmul(w, x, expected, n);
                float[] got = new float[n * w.rows()];
                v.matmul(w, x, got, n);
                assertClose(w, deq, x, n, expected, got, stem + " " + tensor.name());
                float[] one = new float[w.rows()];
                v.matvec(w, x, w.cols(), one, 0);
                assertClose(w, deq, Arrays.copyOfRange(x, w.cols(), 2 * w.cols()), 1,
                        Arrays.copyOfRange(expected, w.rows(), 2 * w.rows()), one, stem + " " + tensor.name() + " matvec");
                checked++;
            }
            assertTrue(checked >= 4, stem + ": only " + checked + " weights of type " + t);
        }
    }

    /**
     * A batch row is its matvec up to float summation order (the lanes of a vector accumulator are
     * added in an order the Vector API leaves open: C2 and the interpreter differ).
     */
    @ParameterizedTest
    @FieldSource("TYPES")
    void matmulBatchRowsAgreeWithMatvec(GgmlType t) {
        Random rnd = new Random(3 + t.id());
        int cols = t.isQuantized() ? 4 * t.blockSize() : 200;
        int rows = 45, n = 5;
        try (Arena arena = Arena.ofShared(); VectorMatmul v = new VectorMatmul(pool3)) {
            Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
            float[][] deq = MatmulTestData.dequantize(w);
            float[] x = MatmulTestData.randomActivations(n * cols, rnd);
            float[] y = new float[n * rows];
            v.matmul(w, x, y, n);
            for (int i = 0; i < n; i++) {
                float[] yi = new float[rows];
                v.matvec(w, x, i * cols, yi, 0);
                float[] xi = Arrays.copyOfRange(x, i * cols, (i + 1) * cols);
                assertClose(w, deq, xi, 1, yi, Arrays.copyOfRange(y, i * rows, (i + 1) * rows), t + " batch row " + i);
            }
        }
    }

    /**
     * {@link VectorMatmul#matvecs} (one conversion of x per form, one dispatch) gives separate
     * matvec calls' results, within the rounding bound of a different order of the lane sums (a
     * kernel's {@code reduceLanes} adds in one order when interpreted or C1-compiled and in another
     * once C2 has compiled it, so two calls straddling a compile differ in the last bits; bit-for-bit
     * equality failed about one run in four for that reason, not for a wrong conversion, which
     * is off by far more than the bound): three matrices of one form (the conversion shared), of one
     * type with and without a copy (Q4_0 at 64 rows has one, at 13 none: two forms), of different
     * types (Q4_K_M's Q, K and V), of float types, two matrices only; row counts of one task and of
     * many, an input offset, fresh inputs in every round (a conversion must never be reused from an
     * earlier call), on one thread and on three.
     */
    @Test
    void sharedInputProductsEqualSeparateCalls() {
        Random rnd = new Random(777);
        try (Arena arena = Arena.ofShared(); VectorMatmul v1 = new VectorMatmul(pool1); VectorMatmul v3 = new VectorMatmul(pool3);
             VectorMatmul separate = new VectorMatmul(pool1)) {
            GgmlType[][] sets = {
                    {GgmlType.Q4_0, GgmlType.Q4_0, GgmlType.Q4_0},
                    {GgmlType.Q4_0, GgmlType.Q4_0, GgmlType.Q8_0},
                    {GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K},
                    {GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q4_K},
                    {GgmlType.F32, GgmlType.F16, GgmlType.BF16},
                    {GgmlType.Q5_K, GgmlType.Q3_K, null},
                    {GgmlType.Q4_K, GgmlType.Q4_K, null},
                    {GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q5_K},
                    {GgmlType.Q2_K, GgmlType.Q2_K, GgmlType.Q6_K},
                    {GgmlType.Q3_K, GgmlType.Q3_K, GgmlType.Q4_K},
            };
            int cols = 512;
            int[][] rowSets = {{64, 16, 24}, {13, 64, 40}, {256, 8, 1}};
            for (GgmlType[] types : sets) {
                for (int[] rows : rowSets) {
                    Weights[] ws = new Weights[3];
                    float[][][] deqs = new float[3][][];
                    for (int p = 0; p < 3; p++) {
                        if (types[p] == null) continue;
                        Weights plain = MatmulTestData.randomWeights(types[p], rows[p], cols, rnd, arena);
                        ws[p] = Interleave.interleave(plain, arena);
                        deqs[p] = MatmulTestData.dequantize(plain);
                    }
                    String label = Arrays.toString(types) + " rows " + Arrays.toString(rows);
                    for (int round = 0; round < 3; round++) {
                        int xOff = round * 5;
                        float[] x = MatmulTestData.randomActivations(xOff + cols, rnd);
                        float[][] expected = new float[3][];
                        for (int p = 0; p < 3; p++) {
                            if (ws[p] == null) continue;
                            expected[p] = new float[ws[p].rows()];
                            separate.matvec(ws[p], x, xOff, expected[p], 0);
                        }
                        for (VectorMatmul v : new VectorMatmul[] {v1, v3}) {
                            float[][] got = new float[3][];
                            for (int p = 0; p < 3; p++) got[p] = ws[p] == null ? null : new float[ws[p].rows()];
                            v.matvecs(ws[0], ws[1], ws[2], x, xOff, got[0], got[1], got[2]);
                            for (int p = 0; p < 3; p++) {
                                if (ws[p] == null) continue;
                                float[] xs = Arrays.copyOfRange(x, xOff, xOff + cols);
                                assertClose(ws[p], deqs[p], xs, 1, expected[p], got[p], label + " part " + p + " (" + ws[p].type()
                                        + (ws[p].interleaved() != null ? " copy" : "") + ") on " + (v == v1 ? "1 thread" : "3 threads") + ": matvecs against matvec");
                            }
                        }
                    }
                }
            }
        }
    }

    private static void assertClose(Weights w, float[][] deq, float[] x, int n, float[] expected, float[] got, String what) {
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < w.rows(); r++) {
                double bound = MatmulTestData.roundingBound(w, r, deq[r], x, i * w.cols());
                int k = i * w.rows() + r;
                int row = r, batch = i;
                assertTrue(Math.abs(expected[k] - got[k]) <= bound, () -> what + " batch " + batch + " row " + row
                        + ": vector " + got[k] + " vs scalar " + expected[k] + ", bound " + bound);
            }
        }
    }

    /**
     * {@code vs}' product of {@code w} (matvec for one row, else matmul) against the scalar
     * reference's of {@code plain} (the same matrix, possibly without {@code w}'s interleaved copy).
     */
    /**
     * Row slices of an 80-row matrix of {@code cols} values (over 6144: its copy in column chunks and
     * bands of 64 rows): a slice keeps its part of the copy exactly when it starts on a band and
     * holds whole bands or reaches the last row, and its products agree with the reference.
     */
    private static void chunkedSlicesAgree(GgmlType t, int cols, int[][] slices, ScalarMatmul ref, VectorMatmul v,
                                           Random rnd, Arena arena) {
        Weights plain = MatmulTestData.randomWeights(t, 80, cols, rnd, arena);
        Weights chunked = Interleave.interleave(plain, arena);
        for (int[] slice : slices) {
            Weights part = chunked.rowSlice("part", slice[0], slice[1]);
            assertEquals(slice[0] % 64 == 0 && (slice[1] % 64 == 0 || slice[0] + slice[1] == 80), part.interleaved() != null,
                    t + " chunked slice " + slice[0] + "+" + slice[1]);
            Weights plainPart = plain.rowSlice("part", slice[0], slice[1]);
            for (int n : new int[] {1, 3, 40}) {
                float[] x = MatmulTestData.randomActivations(n * cols, rnd);
                agreesWithReference(ref, new VectorMatmul[] {v}, plainPart, part, MatmulTestData.dequantize(plainPart), x, n,
                        t + " chunked slice " + slice[0] + "+" + slice[1] + " n=" + n);
            }
        }
    }

    private static void agreesWithReference(ScalarMatmul ref, VectorMatmul[] vs, Weights plain, Weights w, float[][] deq,
                                            float[] x, int n, String label) {
        int rows = plain.rows();
        float[] expected = new float[n * rows];
        ref.matmul(plain, x, expected, n);
        for (VectorMatmul v : vs) {
            // The output holds NaN before the call: a product must overwrite every value it owns, whatever
            // was there (the copy kernels add each column chunk's sums to the output, which the first chunk
            // must reset).
            float[] got = new float[n * rows];
            Arrays.fill(got, Float.NaN);
            if (n == 1) {
                v.matvec(w, x, 0, got, 0);
            } else {
                v.matmul(w, x, got, n);
            }
            assertClose(plain, deq, x, n, expected, got, label);
        }
    }

}

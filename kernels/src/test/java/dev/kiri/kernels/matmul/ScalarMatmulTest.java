package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import dev.kiri.kernels.Weights;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.api.Test;

class ScalarMatmulTest {
    static final java.util.List<GgmlType> TYPES = MatmulTestData.TYPES;
    static final java.util.List<GgmlType> FIXTURE_TYPES = TYPES.stream().filter(t -> t != GgmlType.F32).toList();

    @ParameterizedTest
    @FieldSource("TYPES")
    void matvecMatchesDequantizedWeightsWithinTheActivationConversionError(GgmlType t) {
        Random rnd = new Random(t.id() * 7919L);
        int bs = t.blockSize();
        int[] colsList = t.isQuantized() ? new int[] {bs, 3 * bs, 5 * bs} : new int[] {1, 7, 100, 257};
        try (Arena arena = Arena.ofConfined(); ScalarMatmul mm = new ScalarMatmul()) {
            for (int cols : colsList) {
                for (int rows : new int[] {1, 5, 37}) {
                    Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
                    float[][] deq = MatmulTestData.dequantize(w);
                    float[] x = MatmulTestData.randomActivations(cols + 3, rnd);
                    float[] y = new float[rows + 2];
                    mm.matvec(w, x, 3, y, 2);
                    for (int r = 0; r < rows; r++) {
                        double exact = MatmulTestData.exactDot(deq[r], x, 3);
                        double bound = MatmulTestData.bound(w, r, deq[r], x, 3);
                        float got = y[2 + r];
                        int row = r;
                        assertTrue(Math.abs(got - exact) <= bound, () -> t + " " + rows + "x" + cols + " row " + row
                                + ": got " + got + " vs exact " + exact + ", bound " + bound);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @FieldSource("FIXTURE_TYPES")
    void matvecOnFixtureTensorMatchesGgmlDequantizedReference(GgmlType t) throws IOException {
        String stem = "tiny-llama-" + t.ggmlName();
        float[] ref = readF32(Fixtures.file("refs/dequant/" + stem + ".blk.0.attn_k.weight.f32"));
        try (GgufFile f = GgufFile.open(Fixtures.file("models/" + stem + ".gguf")); ScalarMatmul mm = new ScalarMatmul()) {
            Weights w = Weights.of(f.tensor("blk.0.attn_k.weight"));
            assertEquals(t, w.type());
            assertEquals(ref.length, w.rows() * w.cols());
            float[] x = MatmulTestData.randomActivations(w.cols(), new Random(5));
            float[] y = new float[w.rows()];
            mm.matvec(w, x, 0, y, 0);
            for (int r = 0; r < w.rows(); r++) {
                float[] wr = java.util.Arrays.copyOfRange(ref, r * w.cols(), (r + 1) * w.cols());
                double exact = MatmulTestData.exactDot(wr, x, 0);
                double bound = MatmulTestData.bound(w, r, wr, x, 0);
                int row = r;
                assertTrue(Math.abs(y[r] - exact) <= bound,
                        () -> stem + " row " + row + ": " + y[row] + " vs " + exact + ", bound " + bound);
            }
        }
    }

    @ParameterizedTest
    @FieldSource("TYPES")
    void matmulRowsAreExactlyTheMatvecs(GgmlType t) {
        Random rnd = new Random(11 + t.id());
        int cols = t.isQuantized() ? 2 * t.blockSize() : 70;
        int rows = 9, n = 4;
        try (Arena arena = Arena.ofConfined(); ScalarMatmul mm = new ScalarMatmul()) {
            Weights w = MatmulTestData.randomWeights(t, rows, cols, rnd, arena);
            float[] x = MatmulTestData.randomActivations(n * cols, rnd);
            float[] y = new float[n * rows];
            mm.matmul(w, x, y, n);
            for (int i = 0; i < n; i++) {
                float[] yi = new float[rows];
                mm.matvec(w, x, i * cols, yi, 0);
                assertArrayEquals(yi, java.util.Arrays.copyOfRange(y, i * rows, (i + 1) * rows), t + " batch row " + i);
            }
        }
    }

    @Test
    void q8_0ActivationsRoundHalfToEvenAndUseTheF16RoundedScale() {
        float[] x = new float[32];
        x[0] = 127f;     // amax: d = 1
        x[1] = 2.5f;     // half: to even, 2
        x[2] = 3.5f;     // 4
        x[3] = -2.5f;    // -2
        x[4] = 0.49f;    // 0
        Activations a = new Activations();
        a.prepare(VecDotType.Q8_0, x, 0, 32, 1, true, true);
        assertEquals(127, a.q[0]);
        assertEquals(2, a.q[1]);
        assertEquals(4, a.q[2]);
        assertEquals(-2, a.q[3]);
        assertEquals(0, a.q[4]);
        assertEquals(4, a.q16[2]);
        assertEquals(1f, a.d[0]);

        x[0] = 1000.1f;  // d = 1000.1/127 = 7.8748..., stored as the nearest half 7.875
        a.prepare(VecDotType.Q8_1, x, 0, 32, 1, true, false);
        assertEquals(7.875f, a.d[0]);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += a.q[j];
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(sum * (1000.1f / 127f))), a.s[0]);
    }

    @Test
    void q8_KActivationsMapTheLargestMagnitudeToMinus127AndSumEachSixteen() {
        float[] x = new float[256];
        for (int i = 0; i < 256; i++) x[i] = (i % 7) - 3;
        x[100] = -6.35f; // largest magnitude: scale -127/max, so it becomes -127 whatever its sign
        Activations a = new Activations();
        a.prepare(VecDotType.Q8_K, x, 0, 256, 1, true, false);
        assertEquals(-127, a.q[100]);
        assertEquals(-6.35f / -127f, a.d[0], 1e-9f);
        assertEquals(60, a.q[6]); // 3 · 127/6.35 = 60
        x[100] = 6.35f;
        a.prepare(VecDotType.Q8_K, x, 0, 256, 1, true, false);
        assertEquals(-127, a.q[100]);
        assertEquals(-60, a.q[6]);
        assertEquals(-0.05f, a.d[0], 1e-9f);
        for (int k = 0; k < 16; k++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += a.q[16 * k + l];
            assertEquals(s, a.bsum[k], "sum " + k);
        }
        a.prepare(VecDotType.Q8_K, new float[256], 0, 256, 1, true, false);
        assertEquals(0f, a.d[0]);
        assertEquals(0, a.bsum[3]);
    }

    @Test
    void bf16ActivationsRoundToNearestEven() {
        assertEquals(Float.intBitsToFloat(0x3f800000), Activations.roundBf16(Float.intBitsToFloat(0x3f808000)));
        assertEquals(Float.intBitsToFloat(0x3f820000), Activations.roundBf16(Float.intBitsToFloat(0x3f818000)));
        assertEquals(Float.intBitsToFloat(0x3f810000), Activations.roundBf16(Float.intBitsToFloat(0x3f808001)));
        assertTrue(Float.isNaN(Activations.roundBf16(Float.NaN)));
    }

    @Test
    void unsupportedWeightTypeIsRejectedNamingTheTensor() {
        try (Arena arena = Arena.ofConfined(); ScalarMatmul mm = new ScalarMatmul()) {
            Weights w = new Weights("blk.3.ffn_up.weight", GgmlType.IQ2_XXS, arena.allocate(66), 1, 256);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> mm.matvec(w, new float[256], 0, new float[1], 0));
            assertTrue(e.getMessage().contains("blk.3.ffn_up.weight") && e.getMessage().contains("IQ2_XXS"), e.getMessage());
        }
    }

    @Test
    void shortArraysAreRejectedNamingTheTensor() {
        try (Arena arena = Arena.ofConfined(); ScalarMatmul mm = new ScalarMatmul()) {
            Weights w = MatmulTestData.randomWeights(GgmlType.Q8_0, 4, 64, new Random(1), arena);
            Exception e = assertThrows(IndexOutOfBoundsException.class, () -> mm.matvec(w, new float[64], 1, new float[4], 0));
            assertTrue(e.getMessage().contains(w.name()), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> mm.matvec(w, new float[64], 0, new float[4], 1));
            assertThrows(IndexOutOfBoundsException.class, () -> mm.matmul(w, new float[127], new float[8], 2));
            assertThrows(IndexOutOfBoundsException.class, () -> mm.matmul(w, new float[128], new float[7], 2));
        }
    }

    static float[] readF32(java.nio.file.Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}

package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class QuantizeTest {

    /** The 2-D weights of the F32 model (the 1-D norms stay F32 in every quantized file). */
    private static List<String> matrices(GgufFile f32) {
        List<String> names = new ArrayList<>();
        for (GgufTensor t : f32.tensors()) if (t.shape().length == 2) names.add(t.name());
        assertEquals(2 * 7 + 2, names.size(), "2-D weights of tiny-llama");
        return names;
    }

    @ParameterizedTest
    @EnumSource(names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q5_K"})
    void quantizesTinyLlamaToTheSameBytesAsLlamaCpp(GgmlType type) throws IOException {
        try (GgufFile f32 = GgufFile.open(Fixtures.file("models/tiny-llama-F32.gguf"));
             GgufFile ref = GgufFile.open(Fixtures.file("models/tiny-llama-" + type.name() + ".gguf"))) {
            for (String name : matrices(f32)) {
                GgufTensor expected = ref.tensor(name);
                assertEquals(type, expected.type(), name);
                byte[] actual = Quantize.quantize(type, Dequant.tensor(f32.tensor(name)));
                assertSameBytes(type + " " + name, type, expected.data().toArray(ValueLayout.JAVA_BYTE), actual);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_K", "Q6_K"})
    void kQuantErrorIsWithinTwoPercentOfLlamaCppOnEveryTensor(GgmlType type) throws IOException {
        try (GgufFile f32 = GgufFile.open(Fixtures.file("models/tiny-llama-F32.gguf"));
             GgufFile ref = GgufFile.open(Fixtures.file("models/tiny-llama-" + type.name() + ".gguf"))) {
            for (String name : matrices(f32)) {
                GgufTensor theirs = ref.tensor(name);
                assertEquals(type, theirs.type(), name);
                float[] original = Dequant.tensor(f32.tensor(name));
                byte[] ours = Quantize.quantize(type, original);
                float[] oursBack = new float[original.length];
                Dequant.row(type, MemorySegment.ofArray(ours), 0, oursBack, 0, original.length);
                double rmseOurs = rmse(original, oursBack);
                double rmseTheirs = rmse(original, Dequant.tensor(theirs));
                assertTrue(rmseOurs <= 1.02 * rmseTheirs,
                        type + " " + name + ": RMSE " + rmseOurs + " vs llama.cpp " + rmseTheirs);
                // And a real quantization, not a copy: 4- and 6-bit codes cannot be exact.
                assertTrue(rmseOurs > 0, name);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "F16", "BF16", "F32"})
    void roundTripErrorIsSmallOnRandomData(GgmlType type) {
        Random r = new Random(42);
        float[] x = new float[4 * 256];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * 0.3f;
        float[] back = new float[x.length];
        Dequant.row(type, MemorySegment.ofArray(Quantize.quantize(type, x)), 0, back, 0, x.length);
        double bound = switch (type) {
            case F32 -> 0;
            case F16 -> 1e-4;
            case BF16 -> 2e-3;
            case Q8_0 -> 3e-3;
            case Q6_K -> 8e-3;
            case Q5_0, Q5_1, Q5_K -> 2e-2;
            case Q3_K -> 5e-2; // 3-bit: 0.043 here
            case Q2_K -> 0.1; // 2-bit: 0.087 here
            default -> 4e-2; // 4-bit types
        };
        assertTrue(rmse(x, back) <= bound, type + " RMSE " + rmse(x, back));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void allZeroBlocksDecodeToZero(GgmlType type) {
        float[] x = new float[256];
        float[] back = new float[256];
        java.util.Arrays.fill(back, 1f);
        Dequant.row(type, MemorySegment.ofArray(Quantize.quantize(type, x)), 0, back, 0, 256);
        for (float v : back) assertEquals(0f, v, 0f);
    }

    @Test
    void quantizingFromAnOffsetMatchesQuantizingACopy() {
        Random r = new Random(7);
        float[] x = new float[3 + 512];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (GgmlType type : new GgmlType[]{GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q8_0}) {
            byte[] fromOffset = new byte[5 + (int) type.byteSize(512)];
            Quantize.row(type, x, 3, fromOffset, 5, 512);
            byte[] fromCopy = Quantize.quantize(type, java.util.Arrays.copyOfRange(x, 3, 3 + 512));
            assertArrayEquals(fromCopy, java.util.Arrays.copyOfRange(fromOffset, 5, fromOffset.length), type.name());
            MemorySegment seg = MemorySegment.ofArray(new byte[7 + fromCopy.length]);
            Quantize.row(type, x, 3, seg, 7, 512);
            assertArrayEquals(fromCopy, seg.asSlice(7).toArray(ValueLayout.JAVA_BYTE), type.name());
        }
    }

    @Test
    void concurrentRowsGiveTheSameBytesAsOneThread() throws Exception {
        Random r = new Random(11);
        int rows = 64;
        int n = 1024;
        float[] x = new float[rows * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (GgmlType type : new GgmlType[]{GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q4_0}) {
            byte[] serial = Quantize.quantize(type, x);
            int rowBytes = (int) type.byteSize(n);
            byte[] parallel = new byte[serial.length];
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int row = 0; row < rows; row++) {
                    int rr = row;
                    done.add(pool.submit(() -> Quantize.row(type, x, rr * n, parallel, rr * rowBytes, n)));
                }
                for (Future<?> f : done) f.get();
            } finally {
                pool.shutdown();
            }
            assertArrayEquals(serial, parallel, type.name());
        }
    }

    @Test
    void bf16RoundsToNearestEvenAndKeepsNaN() {
        assertEquals((short) 0x3F80, Quantize.floatToBf16(1.0f));
        // 1 + 2^-8 is exactly half way between two bf16 values: ties go to the even one (1.0).
        assertEquals((short) 0x3F80, Quantize.floatToBf16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, Quantize.floatToBf16(Float.intBitsToFloat(0x3F818000)));
        assertTrue(Float.isNaN(Dequant.bf16ToFloat(Quantize.floatToBf16(Float.NaN))));
    }

    @Test
    void unsupportedTargetIsRefusedByName() {
        var e = assertThrows(UnsupportedOperationException.class, () -> Quantize.quantize(GgmlType.IQ4_XS, new float[256]));
        assertTrue(e.getMessage().contains("IQ4_XS"), e.getMessage());
        assertFalse(Quantize.supports(GgmlType.IQ4_NL));
        assertThrows(IllegalArgumentException.class, () -> Quantize.quantize(GgmlType.Q4_0, new float[33]));
    }

    /**
     * The K-quants whose quantizer is llama.cpp's bit for bit: quantized and dequantized, the F32
     * model's tensor is exactly what ggml's own dequantization gives for llama-quantize's file
     * ({@code refs/dequant}).
     */
    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q5_K"})
    void roundTripOfTheF32ModelEqualsGgmlsDequantizationOfLlamaQuantize(GgmlType type) throws IOException {
        String tensor = "blk.0.attn_k.weight";
        float[] expected = DequantTest.readF32(Fixtures.file("refs/dequant/tiny-llama-" + type.name() + "." + tensor + ".f32"));
        try (GgufFile f32 = GgufFile.open(Fixtures.file("models/tiny-llama-F32.gguf"))) {
            float[] back = roundTrip(type, Dequant.tensor(f32.tensor(tensor)));
            assertEquals(expected.length, back.length, "element count");
            for (int i = 0; i < back.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(back[i])) {
                    fail(type + " " + tensor + " element " + i + ": ggml dequantizes llama-quantize's file to "
                            + expected[i] + ", ours round-trips to " + back[i]);
                }
            }
        }
    }

    /**
     * N(0, 0.05²) weights, every 2-D tensor of the F32 fixture: the round trip's RMSE as a fraction of
     * the RMS inside the type's band, and every value within its super-block's bound
     * ({@link #assertWithinSuperBlockBound}). Measured: Q5_K 3.6 % on every tensor (31 steps; Q4_K's
     * 15 give 7.1 %), Q3_K 15.0–15.1 % (eight levels per 16 values), Q2_K 29.5–29.8 % (four levels
     * with a min). The bands leave about a percent either side (Q5_K: 0.6); a quantizer that skipped
     * the code sweeps or lost a scale bit lands outside, and 0 would mean a copy, not a quantization.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q2_K", "Q3_K", "Q5_K"})
    void roundTripErrorIsBoundedOnEveryTensorOfTheFixtureModel(GgmlType type) throws IOException {
        double lo = switch (type) {
            case Q5_K -> 0.03;
            case Q3_K -> 0.14;
            default -> 0.285;
        };
        double hi = switch (type) {
            case Q5_K -> 0.04;
            case Q3_K -> 0.16;
            default -> 0.31;
        };
        try (GgufFile f32 = GgufFile.open(Fixtures.file("models/tiny-llama-F32.gguf"))) {
            int matrices = 0;
            for (GgufTensor t : f32.tensors()) {
                if (t.shape().length != 2) continue;
                matrices++;
                float[] x = Dequant.tensor(t);
                float[] back = roundTrip(type, x);
                double rel = rmse(x, back) / rms(x);
                assertTrue(rel > lo && rel < hi, type + " " + t.name() + ": RMSE / RMS " + rel);
                assertWithinSuperBlockBound(type, x, back, t.name());
            }
            assertEquals(2 * 7 + 2, matrices, "2-D weights of tiny-llama");
        }
    }

    /**
     * Every value of {@code x} decodes within a bound set by its 256-value super-block, with
     * lo = min(0, min x) and hi = max x over it. Q5_K: one code step, (hi - lo) / 31 (half a step of
     * rounding plus the 6-bit quantization of the sub-block's scale and min). Q3_K and Q2_K: half the
     * range, (max(hi, 0) - lo) / 2 (Q3_K's eight levels with a symmetric scale fitted by least squares
     * can clamp a value by three steps; Q2_K's fit minimises the absolute error with weights |x|, so
     * small values may be pushed to a level far away). Loose for those two, but it catches a wrong
     * layout, sign or scale code, which scatter values over the whole range.
     */
    static void assertWithinSuperBlockBound(GgmlType type, float[] x, float[] back, String what) {
        for (int b = 0; b < x.length / 256; b++) {
            float lo = 0;
            float hi = -Float.MAX_VALUE;
            for (int i = 256 * b; i < 256 * b + 256; i++) {
                lo = Math.min(lo, x[i]);
                hi = Math.max(hi, x[i]);
            }
            float bound = switch (type) {
                case Q5_K -> (hi - lo) / 31;
                case Q2_K, Q3_K -> (Math.max(hi, 0) - lo) / 2;
                default -> throw new IllegalArgumentException(type.toString());
            };
            for (int i = 256 * b; i < 256 * b + 256; i++) {
                float err = Math.abs(back[i] - x[i]);
                if (err > bound) fail(type + " " + what + " element " + i + ": " + x[i] + " comes back as " + back[i] + ", more than " + bound);
            }
        }
    }

    /** {@code x} quantized to {@code type} and dequantized again. */
    static float[] roundTrip(GgmlType type, float[] x) {
        float[] back = new float[x.length];
        Dequant.row(type, MemorySegment.ofArray(Quantize.quantize(type, x)), 0, back, 0, x.length);
        return back;
    }

    /** Fails at the first byte of {@code ours} that differs from llama.cpp's {@code want}, naming its block. */
    static void assertSameBytes(String what, GgmlType type, byte[] want, byte[] ours) {
        assertEquals(want.length, ours.length, what + ": bytes");
        for (int i = 0; i < want.length; i++) {
            if (want[i] != ours[i]) {
                fail(what + ": first differing byte " + i + " (block " + i / type.bytesPerBlock() + ", offset "
                        + i % type.bytesPerBlock() + "): llama.cpp " + (want[i] & 0xFF) + ", ours " + (ours[i] & 0xFF));
            }
        }
    }

    static double rms(float[] x) {
        double s = 0;
        for (float v : x) s += (double) v * v;
        return Math.sqrt(s / x.length);
    }

    static double rmse(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s / a.length);
    }
}

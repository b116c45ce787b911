package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DequantTest {

    /** The types the reference dequantizer must cover, each with a llama.cpp reference in the fixtures. */
    private static final Set<GgmlType> REQUIRED = EnumSet.of(GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q2_K, GgmlType.Q3_K,
            GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS);

    /** Every {@code refs/dequant/<model stem>.<tensor name>.f32} reference file. */
    static Stream<Path> references() throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.file("refs/dequant"))) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".f32")).sorted().toList();
            if (list.isEmpty()) fail("no dequantization references in " + Fixtures.file("refs/dequant"));
            return list.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("references")
    void dequantizesFixtureTensorBitExactlyLikeGgml(Path ref) throws IOException {
        String file = ref.getFileName().toString();
        String stem = file.substring(0, file.indexOf('.'));
        String tensor = file.substring(stem.length() + 1, file.length() - ".f32".length());
        float[] expected = readF32(ref);
        try (GgufFile g = GgufFile.open(Fixtures.file("models/" + stem + ".gguf"))) {
            GgufTensor t = g.tensor(tensor);
            float[] actual = Dequant.tensor(t);
            assertEquals(expected.length, actual.length, "element count");
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                    fail(stem + " " + tensor + " (" + t.type() + ") element " + i + ": expected " + expected[i]
                            + " got " + actual[i]);
                }
            }
        }
    }

    @Test
    void everyRequiredTypeHasAFixtureReference() throws IOException {
        Set<GgmlType> covered = EnumSet.noneOf(GgmlType.class);
        for (Path ref : references().toList()) {
            String stem = ref.getFileName().toString();
            stem = stem.substring(0, stem.indexOf('.'));
            try (GgufFile g = GgufFile.open(Fixtures.file("models/" + stem + ".gguf"))) {
                String tensor = ref.getFileName().toString().substring(stem.length() + 1).replaceAll("\\.f32$", "");
                covered.add(g.tensor(tensor).type());
            }
        }
        assertTrue(covered.containsAll(REQUIRED), "types without a reference: " + missing(covered));
        for (GgmlType t : REQUIRED) assertTrue(Dequant.supports(t), t + " must be supported");
    }

    private static Set<GgmlType> missing(Set<GgmlType> covered) {
        Set<GgmlType> m = EnumSet.copyOf(REQUIRED);
        m.removeAll(covered);
        return m;
    }

    @Test
    void f32TensorDequantizesToItsOwnBytes() throws IOException {
        try (GgufFile g = GgufFile.open(Fixtures.file("models/tiny-llama-F32.gguf"))) {
            GgufTensor t = g.tensor("blk.0.attn_k.weight");
            float[] values = Dequant.tensor(t);
            for (int i = 0; i < values.length; i += 97) {
                assertEquals(t.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i), values[i]);
            }
        }
    }

    @Test
    void rowDequantizesFromAnOffsetIntoAnOffset() throws IOException {
        try (GgufFile g = GgufFile.open(Fixtures.file("models/tiny-llama-Q4_K.gguf"))) {
            GgufTensor t = g.tensor("blk.0.attn_k.weight");
            float[] whole = Dequant.tensor(t);
            float[] row = new float[3 + 256];
            Dequant.row(GgmlType.Q4_K, t.data(), 5 * t.rowBytes(), row, 3, 256);
            for (int i = 0; i < 256; i++) assertEquals(whole[5 * 256 + i], row[3 + i]);
        }
    }

    @Test
    void q8KIsScaleTimesInt8() {
        ByteBuffer b = ByteBuffer.allocate(292).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(0.5f);
        for (int i = 0; i < 256; i++) b.put((byte) (i - 128));
        float[] out = new float[256];
        Dequant.row(GgmlType.Q8_K, MemorySegment.ofArray(b.array()), 0, out, 0, 256);
        for (int i = 0; i < 256; i++) assertEquals((i - 128) * 0.5f, out[i]);
    }

    @Test
    void q4_0DecodesLowNibblesFirstThenHighNibbles() {
        byte[] block = new byte[18];
        short one = Float.floatToFloat16(1.0f);
        block[0] = (byte) one;
        block[1] = (byte) (one >> 8);
        block[2] = (byte) 0xF0; // element 0 -> 0 - 8, element 16 -> 15 - 8
        float[] out = new float[32];
        Dequant.row(GgmlType.Q4_0, MemorySegment.ofArray(block), 0, out, 0, 32);
        assertEquals(-8f, out[0]);
        assertEquals(7f, out[16]);
        assertEquals(-8f, out[1]);
    }

    @Test
    void unsupportedTypeIsRefusedByName() {
        var e = assertThrows(UnsupportedOperationException.class,
                () -> Dequant.row(GgmlType.IQ2_XXS, MemorySegment.ofArray(new byte[66]), 0, new float[256], 0, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
    }

    @Test
    void partialBlockIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> Dequant.row(GgmlType.Q8_0, MemorySegment.ofArray(new byte[34]), 0, new float[32], 0, 16));
    }

    @Test
    void sourceRangeBeyondTheSegmentIsRefused() {
        assertThrows(IndexOutOfBoundsException.class,
                () -> Dequant.row(GgmlType.Q8_0, MemorySegment.ofArray(new byte[34]), 1, new float[32], 0, 32));
    }

    @Test
    void halfAndBfloatHelpersDecodeKnownBitPatterns() {
        assertEquals(1.0f, Dequant.fp16ToFloat(0x3C00));
        assertEquals(-2.0f, Dequant.fp16ToFloat(0xC000));
        assertEquals(65504f, Dequant.fp16ToFloat(0x7BFF));
        assertEquals(1.0f, Dequant.bf16ToFloat(0x3F80));
        assertEquals(-0.5f, Dequant.bf16ToFloat(0xBF00));
    }

    static float[] readF32(Path p) throws IOException {
        byte[] bytes = Files.readAllBytes(p);
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}

package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every kind of malformed header is a GgufFormatException whose message says what and where. */
class MalformedGgufTest {
    private static final int F32 = GgmlType.F32.id();

    @TempDir
    Path dir;

    private GgufFormatException rejects(byte[] bytes, String... expectedInMessage) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains(p.toString()), "message names the file: " + e.getMessage());
        for (String s : expectedInMessage) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
        return e;
    }

    /** One string key, one F32 tensor of 4 elements: a valid file. */
    private static byte[] valid() {
        HeaderBytes b = new HeaderBytes().header(3, 1, 1)
                .kvString("general.architecture", "llama")
                .tensor("w", F32, 0, 4)
                .align(32);
        return b.zeros(16).bytes();
    }

    @Test
    void theValidBaseFileOpens() throws IOException {
        Path p = dir.resolve("ok.gguf");
        Files.write(p, valid());
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals("llama", f.metadata().getString("general.architecture"));
            assertEquals(16, f.tensor("w").byteSize());
        }
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = valid();
        b[0] = 'X';
        rejects(b, "bad magic", "offset 0");
    }

    @Test
    void emptyAndTinyFiles() throws IOException {
        rejects(new byte[0], "too short");
        rejects(new byte[]{'G', 'G'}, "too short");
    }

    @Test
    void everyTruncationPointOfTheHeaderAndData() throws IOException {
        byte[] full = valid();
        for (int len = 0; len < full.length; len++) {
            Path p = dir.resolve("cut" + len + ".gguf");
            Files.write(p, Arrays.copyOf(full, len));
            try {
                GgufFile.open(p).close();
                fail("a file cut at " + len + " of " + full.length + " bytes opened");
            } catch (GgufFormatException e) {
                assertTrue(e.getMessage().contains("offset") || e.getMessage().contains("short")
                        || e.getMessage().contains("past the end"), "cut at " + len + ": " + e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 4, 5, 0x7FFFFFFF, -1})
    void unsupportedVersions(int version) throws IOException {
        byte[] b = new HeaderBytes().header(version, 0, 0).bytes();
        rejects(b, "version");
    }

    @Test
    void versionTwoIsRead() throws IOException {
        Path p = dir.resolve("v2.gguf");
        byte[] b = valid();
        b[4] = 2;
        Files.write(p, b);
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(2, f.version());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 40, Long.MAX_VALUE, -1L, 1000})
    void absurdTensorCount(long count) throws IOException {
        rejects(new HeaderBytes().header(3, count, 0).zeros(64).bytes(), "tensor count");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 40, Long.MAX_VALUE, -1L, 1000})
    void absurdKeyCount(long count) throws IOException {
        rejects(new HeaderBytes().header(3, 0, count).zeros(64).bytes(), "metadata count");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 40, Long.MAX_VALUE, -1L, 100})
    void keyLengthBeyondTheFile(long length) throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).u64(length).zeros(40).bytes(), "string length", "offset 24");
    }

    @Test
    void stringValueLengthBeyondTheFile() throws IOException {
        byte[] b = new HeaderBytes().header(3, 0, 1).str("k").u32(GgufValueType.STRING.id()).u64(1L << 50).zeros(8).bytes();
        rejects(b, "metadata k", "string length");
    }

    @ParameterizedTest
    @ValueSource(longs = {1L << 40, Long.MAX_VALUE, -1L, 20})
    void arrayLengthBeyondTheFile(long length) throws IOException {
        byte[] b = new HeaderBytes().header(3, 0, 1).str("tokenizer.ggml.scores").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.FLOAT32.id()).u64(length).zeros(16).bytes();
        rejects(b, "tokenizer.ggml.scores", "array of");
    }

    @Test
    void stringArrayWhoseElementsRunPastTheEnd() throws IOException {
        byte[] b = new HeaderBytes().header(3, 0, 1).str("tokens").u32(GgufValueType.ARRAY.id())
                .u32(GgufValueType.STRING.id()).u64(2).str("a").u64(1L << 33).bytes();
        rejects(b, "tokens", "string length");
    }

    @Test
    void unknownMetadataValueType() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).str("k").u32(13).zeros(8).bytes(), "metadata k", "unknown value type 13");
    }

    @Test
    void unknownArrayElementType() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(99).u64(0).bytes(),
                "unknown element type 99");
    }

    @Test
    void arraysNestedTooDeep() throws IOException {
        HeaderBytes b = new HeaderBytes().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id());
        for (int i = 0; i < 20; i++) b.u32(GgufValueType.ARRAY.id()).u64(1);
        b.u32(GgufValueType.INT8.id()).u64(0);
        rejects(b.bytes(), "nested deeper");
    }

    @Test
    void boolThatIsNeitherZeroNorOne() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).str("flag").u32(GgufValueType.BOOL.id()).u8(2).bytes(), "flag", "bool");
    }

    @Test
    void duplicateKeyAndDuplicateTensor() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 2).kvString("a", "x").kvString("a", "y").bytes(), "duplicate metadata key a");
        byte[] b = new HeaderBytes().header(3, 2, 0).tensor("w", F32, 0, 4).tensor("w", F32, 32, 4).align(32).zeros(64).bytes();
        rejects(b, "duplicate tensor name w");
    }

    @Test
    void tensorDataBeyondTheFile() throws IOException {
        byte[] b = new HeaderBytes().header(3, 1, 0).tensor("blk.0.ffn_up.weight", F32, 0, 256, 512).align(32).zeros(1024).bytes();
        rejects(b, "blk.0.ffn_up.weight", "past the end");
    }

    @Test
    void tensorOffsetBeyondTheFile() throws IOException {
        byte[] b = new HeaderBytes().header(3, 1, 0).tensor("w", F32, 1L << 40, 4).align(32).zeros(16).bytes();
        rejects(b, "tensor w", "past the end");
    }

    @Test
    void overlappingTensorData() throws IOException {
        byte[] b = new HeaderBytes().header(3, 2, 0).tensor("a", F32, 0, 16).tensor("b", F32, 32, 16)
                .align(32).zeros(128).bytes();
        rejects(b, "overlaps tensor a");
    }

    @Test
    void misalignedTensorData() throws IOException {
        byte[] b = new HeaderBytes().header(3, 1, 0).tensor("w", F32, 4, 4).align(32).zeros(64).bytes();
        rejects(b, "tensor w", "alignment 32");
    }

    @Test
    void dimensionProductThatOverflows() throws IOException {
        byte[] b = new HeaderBytes().header(3, 1, 0).tensor("w", F32, 0, 1L << 32, 1L << 32).align(32).zeros(16).bytes();
        rejects(b, "tensor w", "overflows");
        byte[] bytes = new HeaderBytes().header(3, 1, 0).tensor("w", F32, 0, 1L << 62).align(32).zeros(16).bytes();
        rejects(bytes, "tensor w", "overflows");
    }

    @Test
    void negativeDimension() throws IOException {
        rejects(new HeaderBytes().header(3, 1, 0).tensor("w", F32, 0, -4).align(32).zeros(16).bytes(), "tensor w", "negative");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, -1})
    void wrongNumberOfDimensions(int nDims) throws IOException {
        byte[] b = new HeaderBytes().header(3, 1, 0).str("w").u32(nDims).zeros(64).bytes();
        rejects(b, "tensor w", "dimensions");
    }

    @ParameterizedTest
    @ValueSource(ints = {40, 1000, -1})
    void unknownTensorType(int type) throws IOException {
        rejects(new HeaderBytes().header(3, 1, 0).tensor("w", type, 0, 32).align(32).zeros(256).bytes(),
                "tensor w", "unknown ggml type id");
    }

    @Test
    void retiredTensorTypeIsNamed() throws IOException {
        rejects(new HeaderBytes().header(3, 1, 0).tensor("w", 4, 0, 32).align(32).zeros(256).bytes(), "tensor w", "Q4_2");
    }

    @Test
    void rowLengthThatIsNotAWholeNumberOfBlocks() throws IOException {
        rejects(new HeaderBytes().header(3, 1, 0).tensor("w", GgmlType.Q4_0.id(), 0, 33).align(32).zeros(64).bytes(),
                "tensor w", "block size 32");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 3, 48, 1L << 31})
    void alignmentThatIsNotAPowerOfTwo(long alignment) throws IOException {
        byte[] b = new HeaderBytes().header(3, 0, 1).str("general.alignment").u32(GgufValueType.UINT32.id()).u32(alignment).bytes();
        rejects(b, "general.alignment");
    }

    @Test
    void alignmentOfTheWrongType() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).kvString("general.alignment", "32").bytes(), "general.alignment", "UINT32");
    }

    @Test
    void splitKeyOfTheWrongTypeIsAFormatError() throws IOException {
        rejects(new HeaderBytes().header(3, 0, 1).kvString("split.count", "three").bytes(), "split.count");
    }
}

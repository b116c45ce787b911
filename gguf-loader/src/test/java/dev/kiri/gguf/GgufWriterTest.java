package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufWriterTest {
    @TempDir
    Path dir;

    @Test
    void metadataOfEveryTypeRoundTrips() throws IOException {
        GgufWriter w = new GgufWriter();
        w.put("u8", new GgufValue(GgufValueType.UINT8, 255L));
        w.put("i8", new GgufValue(GgufValueType.INT8, -128L));
        w.put("u16", new GgufValue(GgufValueType.UINT16, 65535L));
        w.put("i16", new GgufValue(GgufValueType.INT16, -32768L));
        w.putUInt32("u32", 0xFFFFFFFFL);
        w.putInt32("i32", Integer.MIN_VALUE);
        w.putUInt64("u64", -1L); // all bits set: UINT64 max
        w.put("i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE));
        w.putFloat32("f32", 1e-5f);
        w.put("f64", new GgufValue(GgufValueType.FLOAT64, Math.PI));
        w.putBool("yes", true);
        w.putBool("no", false);
        w.putString("text", "日本の首都は東京 / 한국어 / ▁the");
        w.putString("empty", "");
        w.putArray("a.u8", new GgufArray(GgufValueType.UINT8, new byte[]{0, 1, (byte) 255}));
        w.putArray("a.i16", new GgufArray(GgufValueType.INT16, new short[]{-1, 2}));
        w.putArray("a.u32", new GgufArray(GgufValueType.UINT32, new int[]{-1, 7}));
        w.putArray("a.i64", new GgufArray(GgufValueType.INT64, new long[]{Long.MAX_VALUE, -3}));
        w.putArray("a.f32", new GgufArray(GgufValueType.FLOAT32, new float[]{0.5f, -0f, Float.NaN}));
        w.putArray("a.f64", new GgufArray(GgufValueType.FLOAT64, new double[]{1e300}));
        w.putArray("a.bool", new GgufArray(GgufValueType.BOOL, new boolean[]{true, false, true}));
        w.putArray("a.str", new GgufArray(GgufValueType.STRING, new String[]{"<s>", "", "漢字"}));
        w.putArray("a.empty", new GgufArray(GgufValueType.INT32, new int[0]));
        w.putArray("a.nested", new GgufArray(GgufValueType.ARRAY, new GgufArray[]{
                new GgufArray(GgufValueType.STRING, new String[]{"a", "b"}),
                new GgufArray(GgufValueType.ARRAY, new GgufArray[]{new GgufArray(GgufValueType.INT8, new byte[]{-5})})}));
        Path p = dir.resolve("meta.gguf");
        w.write(p);

        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(0, f.tensors().size());
            GgufMetadata m = f.metadata();
            assertEquals(24, m.keys().size());
            assertEquals(255, m.getInt("u8"));
            assertEquals(-128, m.getInt("i8"));
            assertEquals(65535, m.getInt("u16"));
            assertEquals(-32768, m.getInt("i16"));
            assertEquals(0xFFFFFFFFL, m.getLong("u32"));
            assertEquals(Integer.MIN_VALUE, m.getInt("i32"));
            assertEquals(-1L, m.getLong("u64"));
            assertEquals(GgufValueType.UINT64, m.get("u64").orElseThrow().type());
            assertEquals(Long.MIN_VALUE, m.getLong("i64"));
            assertEquals(1e-5f, m.getFloat("f32"));
            assertEquals(Math.PI, (Double) m.get("f64").orElseThrow().value());
            assertTrue(m.getBoolean("yes"));
            assertFalse(m.getBoolean("no"));
            assertEquals("日本の首都は東京 / 한국어 / ▁the", m.getString("text"));
            assertEquals("", m.getString("empty"));
            assertEquals(255, m.getArray("a.u8").getLong(2));
            assertArrayEquals(new int[]{-1, 2}, m.getIntArray("a.i16"));
            assertEquals(0xFFFFFFFFL, m.getArray("a.u32").getLong(0));
            assertArrayEquals(new long[]{Long.MAX_VALUE, -3}, (long[]) m.getArray("a.i64").values());
            float[] f32 = m.getFloatArray("a.f32");
            assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(f32[1]));
            assertTrue(Float.isNaN(f32[2]));
            assertArrayEquals(new double[]{1e300}, (double[]) m.getArray("a.f64").values());
            assertArrayEquals(new boolean[]{true, false, true}, (boolean[]) m.getArray("a.bool").values());
            assertArrayEquals(new String[]{"<s>", "", "漢字"}, m.getStringArray("a.str"));
            assertEquals(0, m.getArray("a.empty").length());
            GgufArray[] nested = (GgufArray[]) m.getArray("a.nested").values();
            assertArrayEquals(new String[]{"a", "b"}, (String[]) nested[0].values());
            GgufArray deeper = ((GgufArray[]) nested[1].values())[0];
            assertArrayEquals(new byte[]{-5}, (byte[]) deeper.values());
        }
    }

    @Test
    void tensorsOfAnyTypeAndRankRoundTripAtTheRequestedAlignment() throws IOException {
        Random r = new Random(3);
        Map<String, Object[]> specs = Map.of(
                "f32.1d", new Object[]{GgmlType.F32, new long[]{7}},
                "f16.2d", new Object[]{GgmlType.F16, new long[]{5, 3}},
                "q4_0.3d", new Object[]{GgmlType.Q4_0, new long[]{64, 2, 3}},
                "q4_k.4d", new Object[]{GgmlType.Q4_K, new long[]{256, 1, 2, 2}},
                "iq2_xxs", new Object[]{GgmlType.IQ2_XXS, new long[]{256, 2}},
                "mxfp4", new Object[]{GgmlType.MXFP4, new long[]{32, 1}});
        GgufWriter w = new GgufWriter().alignment(64);
        w.putString("general.architecture", "test");
        Map<String, byte[]> data = new java.util.HashMap<>();
        for (String name : specs.keySet().stream().sorted().toList()) {
            GgmlType type = (GgmlType) specs.get(name)[0];
            long[] shape = (long[]) specs.get(name)[1];
            long n = 1;
            for (long d : shape) n *= d;
            byte[] bytes = new byte[(int) type.byteSize(n)];
            r.nextBytes(bytes);
            data.put(name, bytes);
            w.addTensor(name, type, shape, bytes);
        }
        Path p = dir.resolve("tensors.gguf");
        w.write(p);
        assertEquals(w.fileSize(), Files.size(p));

        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(64, f.alignment());
            assertEquals(64, f.metadata().getInt("general.alignment"));
            assertEquals(specs.keySet().stream().sorted().toList(), f.tensors().stream().map(GgufTensor::name).toList());
            for (GgufTensor t : f.tensors()) {
                assertEquals(specs.get(t.name())[0], t.type());
                assertArrayEquals((long[]) specs.get(t.name())[1], t.shape());
                assertEquals(0, t.fileOffset() % 64, t.name());
                assertArrayEquals(data.get(t.name()), t.data().toArray(ValueLayout.JAVA_BYTE), t.name());
            }
        }
    }

    @Test
    void copyOfALlamaCppFileIsByteIdentical() throws IOException {
        Path original = Fixtures.file("models/tiny-llama-Q4_K.gguf");
        Path copy = dir.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(original)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            for (GgufTensor t : f.tensors()) w.addTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(copy);
        }
        assertEquals(-1, Files.mismatch(original, copy), "first differing byte");
    }

    @Test
    void floatTensorIsQuantizedWhileWriting() throws IOException {
        float[] values = new float[2 * 256];
        for (int i = 0; i < values.length; i++) values[i] = (float) Math.sin(i);
        Path p = dir.resolve("q.gguf");
        new GgufWriter().addTensor("w", GgmlType.Q8_0, new long[]{256, 2}, values).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertArrayEquals(Quantize.quantize(GgmlType.Q8_0, values), f.tensor("w").data().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void sourceWritingTheWrongSizeFailsNamingTheTensorAndLeavesNoFile() throws IOException {
        Path p = dir.resolve("bad.gguf");
        GgufWriter w = new GgufWriter().addTensor("short.weight", GgmlType.F32, new long[]{4}, out -> out.write(new byte[12]));
        IOException e = assertThrows(IOException.class, () -> w.write(p));
        assertTrue(e.getMessage().contains("short.weight"), e.getMessage());
        GgufWriter w2 = new GgufWriter().addTensor("long.weight", GgmlType.F32, new long[]{4}, out -> out.write(new byte[20]));
        e = assertThrows(IOException.class, () -> w2.write(p));
        assertTrue(e.getMessage().contains("long.weight"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no file, temporary or final, is left behind");
        }
    }

    @Test
    void invalidTensorsAreRefusedWhenAdded() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.Q4_0, new long[]{33}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[]{1, 1, 1, 1, 1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.Q4_2_REMOVED, new long[]{32}, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(48));
        w.addTensor("a", GgmlType.F32, new long[]{1}, new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[]{1}, new byte[4]));
    }

    @Test
    void mappedOutputIsFilledInPlaceFromSeveralThreads() throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "test");
        int rows = 64;
        for (int t = 0; t < 3; t++) w.addTensor("t" + t, GgmlType.Q8_0, new long[]{256, rows}, out -> {
            throw new AssertionError("not called in mapped mode");
        });
        Path p = dir.resolve("mapped.gguf");
        try (GgufWriter.MappedOutput out = w.writeMapped(p)) {
            for (int t = 0; t < 3; t++) {
                MemorySegment seg = out.tensor("t" + t);
                int tt = t;
                IntStream.range(0, rows).parallel().forEach(row -> {
                    float[] x = new float[256];
                    for (int i = 0; i < 256; i++) x[i] = tt + row + i / 256f;
                    Quantize.row(GgmlType.Q8_0, x, 0, seg, row * GgmlType.Q8_0.byteSize(256), 256);
                });
            }
        }
        try (GgufFile f = GgufFile.open(p)) {
            float[] v = Dequant.tensor(f.tensor("t2"));
            assertEquals(2 + 10 + 5 / 256f, v[10 * 256 + 5], 0.3f);
            assertEquals(w.fileSize(), Files.size(p));
        }
    }

    @Test
    void alignmentKeyMustBeUInt32() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new GgufWriter().put("general.alignment", GgufValue.ofString("32")));
        assertInstanceOf(IllegalArgumentException.class, e);
    }
}

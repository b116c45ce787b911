package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir
    Path dir;

    /** Writes NAME-0000i-of-00003.gguf, shard i holding tensors "t{i}a" and "t{i}b" of F32 values i. */
    private Path writeSplit(String name, int shards, long declaredTensors, boolean duplicate) throws IOException {
        for (int i = 0; i < shards; i++) {
            GgufWriter w = new GgufWriter();
            if (i == 0) w.putString("general.architecture", "llama");
            w.put("split.no", new GgufValue(GgufValueType.UINT16, (long) i));
            w.put("split.count", new GgufValue(GgufValueType.UINT16, (long) shards));
            w.put("split.tensors.count", new GgufValue(GgufValueType.INT32, declaredTensors));
            float[] v = new float[4];
            java.util.Arrays.fill(v, i);
            w.addTensor("t" + i + "a", GgmlType.F32, new long[]{4}, v);
            w.addTensor(duplicate && i == 2 ? "t0a" : "t" + i + "b", GgmlType.F32, new long[]{4}, v);
            w.write(dir.resolve(String.format("%s-%05d-of-%05d.gguf", name, i + 1, shards)));
        }
        return dir.resolve(String.format("%s-00001-of-%05d.gguf", name, shards));
    }

    @Test
    void splitModelOpensAsOneFileFromItsFirstShard() throws IOException {
        try (GgufFile f = GgufFile.open(writeSplit("model", 3, 6, false))) {
            assertEquals(3, f.shards().size());
            assertEquals("llama", f.metadata().getString("general.architecture"));
            assertEquals(List.of("t0a", "t0b", "t1a", "t1b", "t2a", "t2b"), f.tensors().stream().map(GgufTensor::name).toList());
            assertArrayEquals(new float[]{2, 2, 2, 2}, Dequant.tensor(f.tensor("t2b")));
            assertArrayEquals(new float[]{1, 1, 1, 1}, Dequant.tensor(f.tensor("t1a")));
            long total = 0;
            for (int i = 1; i <= 3; i++) total += Files.size(dir.resolve(String.format("model-%05d-of-00003.gguf", i)));
            assertEquals(total, f.fileSize());
        }
    }

    @Test
    void openingALaterShardIsRefusedWithAHint() throws IOException {
        writeSplit("model", 3, 6, false);
        var e = assertThrows(GgufFormatException.class, () -> GgufFile.open(dir.resolve("model-00002-of-00003.gguf")));
        assertTrue(e.getMessage().contains("open the first shard"), e.getMessage());
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path first = writeSplit("model", 3, 6, false);
        Files.delete(dir.resolve("model-00003-of-00003.gguf"));
        var e = assertThrows(GgufFormatException.class, () -> GgufFile.open(first));
        assertTrue(e.getMessage().contains("model-00003-of-00003.gguf"), e.getMessage());
    }

    @Test
    void tensorInTwoShardsIsRefused() throws IOException {
        Path first = writeSplit("model", 3, 6, true);
        var e = assertThrows(GgufFormatException.class, () -> GgufFile.open(first));
        assertTrue(e.getMessage().contains("t0a"), e.getMessage());
    }

    @Test
    void declaredTensorCountMustMatchTheShards() throws IOException {
        Path first = writeSplit("model", 3, 7, false);
        var e = assertThrows(GgufFormatException.class, () -> GgufFile.open(first));
        assertTrue(e.getMessage().contains("split.tensors.count is 7"), e.getMessage());
    }

    @Test
    void tensorSegmentsAreUnusableAfterClose() throws IOException {
        Path p = dir.resolve("one.gguf");
        new GgufWriter().addTensor("w", GgmlType.F32, new long[]{4}, new float[]{1, 2, 3, 4}).write(p);
        GgufFile f = GgufFile.open(p);
        MemorySegment data = f.tensor("w").data();
        assertEquals(2f, data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4));
        f.close();
        assertThrows(IllegalStateException.class, () -> data.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path p = dir.resolve("one.gguf");
        new GgufWriter().addTensor("w", GgmlType.F32, new long[]{4}, new float[4]).write(p);
        try (GgufFile f = GgufFile.open(p)) {
            var e = assertThrows(IllegalArgumentException.class, () -> f.tensor("output.weight"));
            assertTrue(e.getMessage().contains("output.weight"), e.getMessage());
            assertTrue(f.findTensor("output.weight").isEmpty());
        }
    }

    @Test
    void fileLargerThan4GiBMapsAndReadsPastTheFourGigabyteMark() throws IOException {
        // A sparse file: only the header and the last element are ever written.
        long rows = 1100;
        long cols = 1 << 20; // 1100 x 1 Mi F32 = 4.3 GiB
        GgufWriter w = new GgufWriter();
        w.addTensor("small", GgmlType.F32, new long[]{8}, new float[8]);
        w.addTensor("huge", GgmlType.F32, new long[]{cols, rows}, out -> {
            throw new AssertionError("filled in place");
        });
        Path p = dir.resolve("huge.gguf");
        var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        try (GgufWriter.MappedOutput out = w.writeMapped(p)) {
            MemorySegment huge = out.tensor("huge");
            huge.set(f32, huge.byteSize() - 4, 42f);
        }
        try (GgufFile f = GgufFile.open(p)) {
            GgufTensor t = f.tensor("huge");
            assertEquals(rows * cols * 4, t.byteSize());
            assertTrue(t.fileOffset() + t.byteSize() > (1L << 32));
            assertEquals(42f, t.data().get(f32, t.byteSize() - 4));
            assertEquals(rows, t.rows());
        }
    }
}

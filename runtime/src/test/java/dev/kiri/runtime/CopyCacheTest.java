package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.Weights;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link LoadOptions#copyCache}: a load saves the kernels' copies, the next maps them, and the
 * results are bit for bit those of copies made in memory; a file that no longer matches the model
 * or is damaged is made again; a cache that cannot be written costs only the saving.
 */
class CopyCacheTest {
    private static final int[] TOKENS = {1, 17, 42, 99, 256, 300, 7, 511};
    private static final boolean VECTOR = "vector".equals(KernelsProvider.implementation());

    private static LoadOptions options(Path dir) {
        return LoadOptions.defaults().threads(2).contextLength(32).copyCache(dir);
    }

    private static float[] logits(Path model, LoadOptions o) throws IOException {
        try (Model m = TinyFixtures.idsOnly(model, o)) {
            return m.logits(TOKENS);
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /**
     * Logits of two loads. Not bit for bit: a kernel that sums its lanes while still interpreted and
     * again once compiled may round the last bit differently; wrong copies are wrong by far more.
     */
    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            float tol = 1e-5f + 1e-5f * Math.abs(expected[i]);
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                throw new AssertionError(what + ": logit " + i + ": " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertClose(expected, actual, "logits");
    }

    /** Every copy of {@code m} holds exactly the bytes a copy made now from the file holds. */
    private static void assertCopiesExact(Model m) {
        List<String> wrong = new ArrayList<>();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            m.weights().mapMatrices(w -> {
                if (w.interleaved() != null) {
                    Weights fresh = dev.kiri.kernels.matmul.Interleave.interleave(
                            new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols()), arena);
                    if (fresh.interleaved().mismatch(w.interleaved()) != -1) wrong.add(w.name());
                }
                return w;
            });
        }
        assertTrue(wrong.isEmpty(), "copies that differ from a fresh copy: " + wrong);
    }

    /** Every copied matrix of {@code m} reads a segment mapped from a file (not memory the load filled). */
    private static void assertCopiesMapped(Model m, boolean mapped) {
        List<String> wrong = new ArrayList<>();
        m.weights().mapMatrices(w -> {
            if (w.interleaved() != null && w.interleaved().isMapped() != mapped) wrong.add(w.name());
            return w;
        });
        assertTrue(wrong.isEmpty(), "copies " + (mapped ? "not " : "") + "mapped: " + wrong);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-Q4_0.gguf", "tiny-llama-Q4_K.gguf", "tiny-llama-Q6_K.gguf", "tiny-llama-Q2_K.gguf"})
    void aLoadSavesTheCopiesAndTheNextMapsThem(String fixture, @TempDir Path dir) throws IOException {
        Path model = TinyFixtures.model(fixture);
        float[] plain = logits(model, options(null));
        Path cache = dir.resolve("copies");
        Path saved;
        try (Model m = TinyFixtures.idsOnly(model, options(cache))) {
            if (!VECTOR) {
                assertTrue(m.copyCacheFile().isEmpty(), "the scalar kernels make no copies, so nothing is saved");
                assertEquals(List.of(), files(cache));
                return;
            }
            assertTrue(m.interleavedBytes() > 0, fixture + " has matrices to copy");
            assertFalse(m.copiesFromCache());
            saved = m.copyCacheFile().orElseThrow();
            assertEquals(List.of(saved), files(cache), "one file, no temporary left behind");
            assertTrue(saved.getFileName().toString().startsWith(fixture + "-"), saved.toString());
            assertCopiesMapped(m, false);
            assertClose(plain, m.logits(TOKENS), "logits with the copies made (and saved)");
        }
        try (Model m = TinyFixtures.idsOnly(model, options(cache))) {
            assertTrue(m.copiesFromCache(), "the second load maps the saved copies");
            assertEquals(saved, m.copyCacheFile().orElseThrow());
            assertCopiesMapped(m, true);
            assertCopiesExact(m);
            assertClose(plain, m.logits(TOKENS), "logits with the mapped copies");
        }
        assertEquals(List.of(saved), files(cache));
    }

    /**
     * Q5_0 matrices are widened into the Q8_0 copy when they are at most half of a model's matrix
     * bytes (the fallback of a K-quant mix), not when Q5_0 is the model's own type; {@code true} and
     * {@code false} decide regardless, and another value reads as {@code auto}.
     */
    @Test
    void q5_0IsWidenedWhereItIsAFallbackNotWhereItIsTheModelsType() throws IOException {
        assertTrue(CopyCache.widensQ5_0("auto", 44, 100));
        assertTrue(CopyCache.widensQ5_0("auto", 50, 100));
        assertFalse(CopyCache.widensQ5_0("auto", 51, 100));
        assertTrue(CopyCache.widensQ5_0("true", 90, 100));
        assertFalse(CopyCache.widensQ5_0("false", 10, 100));
        assertTrue(CopyCache.widensQ5_0("yes", 10, 100), "an unknown value reads as auto");
        assertFalse(CopyCache.widensQ5_0("yes", 90, 100), "an unknown value reads as auto");
        try (var g = dev.kiri.gguf.GgufFile.open(TinyFixtures.model("tiny-llama-Q5_0.gguf"))) {
            var c = dev.kiri.runtime.model.ModelConfig.fromMetadata(g.metadata(), "tiny-llama-Q5_0.gguf");
            var weights = dev.kiri.runtime.model.ModelWeights.bind(g, c, c.contextLength());
            long q5 = 0, total = 0;
            java.util.IdentityHashMap<Weights, Boolean> seen = new java.util.IdentityHashMap<>();
            for (Weights w : matrices(weights)) {
                if (seen.put(w, Boolean.TRUE) != null) continue;
                total += w.byteSize();
                if (w.type() == dev.kiri.gguf.GgmlType.Q5_0) q5 += w.byteSize();
            }
            assertTrue(2 * q5 > total, "the fixture is mostly Q5_0: " + q5 + " of " + total);
            assertTrue(CopyCache.copied(weights, "auto").stream().noneMatch(w -> w.type() == dev.kiri.gguf.GgmlType.Q5_0),
                    "a Q5_0 model keeps its Q5_0 matrices in place");
            List<Weights> widened = CopyCache.copied(weights, "true");
            assertTrue(widened.stream().anyMatch(w -> w.type() == dev.kiri.gguf.GgmlType.Q5_0), "widened when asked");
            assertTrue(CopyCache.copied(weights, "false").stream().noneMatch(w -> w.type() == dev.kiri.gguf.GgmlType.Q5_0));
        }
    }

    private static List<Weights> matrices(dev.kiri.runtime.model.ModelWeights weights) {
        List<Weights> all = new ArrayList<>();
        weights.mapMatrices(w -> {
            all.add(w);
            return w;
        });
        return all;
    }

    /** A byte changed in the header, the first or the last copy, or a shorter file: made again, and right. */
    @ParameterizedTest
    @ValueSource(strings = {"header", "first copy", "last copy", "truncated"})
    void aDamagedFileIsMadeAgain(String damage, @TempDir Path dir) throws IOException {
        assumeTrue(VECTOR, "the scalar kernels make no copies, so there is no cache file to test: " + KernelsProvider.implementation());
        Path model = TinyFixtures.model("tiny-llama-Q4_K.gguf");
        float[] plain = logits(model, options(null));
        Path saved;
        try (Model m = TinyFixtures.idsOnly(model, options(dir))) {
            saved = m.copyCacheFile().orElseThrow();
        }
        long size = Files.size(saved);
        try (RandomAccessFile f = new RandomAccessFile(saved.toFile(), "rw")) {
            switch (damage) {
                case "header" -> flip(f, 20); // inside the key
                case "first copy", "last copy" -> {
                    // the header's table: offset, length, CRC per copy
                    java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(CopyCache.PAGE).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    f.getChannel().read(h, 0);
                    int e = "first copy".equals(damage) ? 0 : h.getInt(12) - 1;
                    long off = h.getLong(64 + 24 * e), len = h.getLong(64 + 24 * e + 8);
                    flip(f, "first copy".equals(damage) ? off + len / 2 : off + len - 1);
                }
                default -> f.setLength(size - CopyCache.PAGE);
            }
        }
        try (Model m = TinyFixtures.idsOnly(model, options(dir))) {
            assertFalse(m.copiesFromCache(), damage + ": the file must fail its checks");
            assertClose(plain, m.logits(TOKENS), damage);
        }
        try (Model m = TinyFixtures.idsOnly(model, options(dir))) {
            assertTrue(m.copiesFromCache(), "the file made again is used");
            assertCopiesExact(m);
            assertClose(plain, m.logits(TOKENS));
        }
        assertEquals(1, files(dir).size(), files(dir).toString());
    }

    private static void flip(RandomAccessFile f, long at) throws IOException {
        f.seek(at);
        int b = f.read();
        f.seek(at);
        f.write(b ^ 0x40);
    }

    /** A model file changed since the copies were saved gets a file of its own, and the old one is deleted. */
    @Test
    void aChangedModelFileGetsNewCopies(@TempDir Path dir) throws IOException {
        assumeTrue(VECTOR, "the scalar kernels make no copies, so there is no cache file to test: " + KernelsProvider.implementation());
        Path model = dir.resolve("model.gguf");
        Files.copy(TinyFixtures.model("tiny-llama-Q4_0.gguf"), model);
        Path cache = dir.resolve("copies");
        Path first;
        try (Model m = TinyFixtures.idsOnly(model, options(cache))) {
            first = m.copyCacheFile().orElseThrow();
        }
        // Same path, same tensors, other weights: one byte of every copied matrix changed in place.
        List<Long> at = new ArrayList<>();
        try (var g = dev.kiri.gguf.GgufFile.open(model)) {
            var c = dev.kiri.runtime.model.ModelConfig.fromMetadata(g.metadata(), "model.gguf");
            long base = g.shards().get(0).segment().address();
            for (Weights w : CopyCache.copied(dev.kiri.runtime.model.ModelWeights.bind(g, c, c.contextLength()))) {
                at.add(w.data().address() - base);
            }
        }
        assertFalse(at.isEmpty());
        try (RandomAccessFile f = new RandomAccessFile(model.toFile(), "rw")) {
            for (long a : at) flip(f, a + 7);
        }
        Files.setLastModifiedTime(model, FileTime.fromMillis(Files.getLastModifiedTime(model).toMillis() + 5000));
        float[] plain = logits(model, options(null));
        try (Model m = TinyFixtures.idsOnly(model, options(cache))) {
            assertFalse(m.copiesFromCache(), "the old copies are not this file's");
            Path second = m.copyCacheFile().orElseThrow();
            assertFalse(second.equals(first));
            assertEquals(List.of(second), files(cache), "the old file of that path is deleted");
            assertClose(plain, m.logits(TOKENS));
        }
        try (Model m = TinyFixtures.idsOnly(model, options(cache))) {
            assertTrue(m.copiesFromCache());
            assertCopiesExact(m);
        }
    }

    /** Saving deletes the files of models that are gone, and nothing that is not such a file. */
    @Test
    void theCopiesOfAModelThatIsGoneAreDeleted(@TempDir Path dir) throws IOException {
        assumeTrue(VECTOR, "the scalar kernels make no copies, so there is no cache file to test: " + KernelsProvider.implementation());
        Path a = Files.copy(TinyFixtures.model("tiny-llama-Q4_0.gguf"), dir.resolve("a.gguf"));
        Path b = Files.copy(TinyFixtures.model("tiny-llama-Q4_K.gguf"), dir.resolve("b.gguf"));
        Path cache = dir.resolve("copies");
        Path fileA;
        try (Model m = TinyFixtures.idsOnly(a, options(cache))) {
            fileA = m.copyCacheFile().orElseThrow();
        }
        assertEquals(a.toRealPath(), CopyCache.origin(fileA), "the header names the model");
        Path junk = Files.writeString(cache.resolve("notes.kcopy"), "not a copy file");
        Path other = Files.writeString(cache.resolve("other.txt"), "x");
        Files.delete(a);
        Path fileB;
        try (Model m = TinyFixtures.idsOnly(b, options(cache))) {
            fileB = m.copyCacheFile().orElseThrow();
        }
        assertEquals(java.util.stream.Stream.of(fileB, junk, other).sorted().toList(), files(cache));
    }

    /** A directory that cannot be made: the load goes on with copies in memory and saves nothing. */
    @Test
    void aCacheThatCannotBeWrittenOnlyCostsTheSaving(@TempDir Path dir) throws IOException {
        Path notADir = Files.writeString(dir.resolve("file"), "x");
        Path model = TinyFixtures.model("tiny-llama-Q4_0.gguf");
        float[] plain = logits(model, options(null));
        try (Model m = TinyFixtures.idsOnly(model, options(notADir.resolve("copies")))) {
            assertTrue(m.copyCacheFile().isEmpty());
            assertFalse(m.copiesFromCache());
            assertEquals(VECTOR, m.interleavedBytes() > 0, "the copies are still made");
            assertClose(plain, m.logits(TOKENS));
        }
    }

    /** The key covers the copies' layout code and every copied matrix: a fixed key for one model and runtime. */
    @Test
    void theKeyIsStableAndCoversTheMatrices() throws IOException {
        try (var f = dev.kiri.gguf.GgufFile.open(TinyFixtures.model("tiny-llama-Q4_K.gguf"))) {
            var c = dev.kiri.runtime.model.ModelConfig.fromMetadata(f.metadata(), "tiny");
            var w = dev.kiri.runtime.model.ModelWeights.bind(f, c, c.contextLength());
            List<Weights> todo = CopyCache.copied(w);
            assertFalse(todo.isEmpty());
            for (int i = 1; i < todo.size(); i++) {
                assertTrue(todo.get(i - 1).byteSize() >= todo.get(i).byteSize(), "largest first");
            }
            assertArrayEquals(CopyCache.key(f, todo), CopyCache.key(f, todo));
            assertFalse(java.util.Arrays.equals(CopyCache.key(f, todo), CopyCache.key(f, todo.subList(1, todo.size()))));
        }
    }
}

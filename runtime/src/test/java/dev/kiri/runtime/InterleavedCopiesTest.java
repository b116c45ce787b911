package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgufFile;
import dev.kiri.kernels.KernelsProvider;
import dev.kiri.kernels.Weights;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.ModelWeights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The Q4_0, Q4_K and Q6_K copies a CPU model load makes ({@code dev.kiri.kernels.matmul.Interleave}). */
class InterleavedCopiesTest {

    private static ModelWeights bind(GgufFile f) {
        ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "tiny-llama-Q4_0.gguf");
        return ModelWeights.bind(f, c, c.contextLength());
    }

    @Test
    void exactlyTheMatricesInterleaveTakesAreCopied() throws Exception {
        try (GgufFile f = GgufFile.open(TinyFixtures.model("tiny-llama-Q4_0.gguf")); Arena arena = Arena.ofShared()) {
            ModelWeights plain = bind(f);
            java.util.List<Weights> todo = CopyCache.copied(plain);
            Weights[] done = CopyCache.makeOrNull(todo, arena, 2, "tiny-llama-Q4_0.gguf");
            assertNotNull(done);
            ModelWeights copied = CopyCache.replace(plain, todo, done);
            int[] counts = new int[2];
            copied.mapMatrices(w -> {
                counts[w.interleaved() != null ? 1 : 0]++;
                assertEquals(w.type() == dev.kiri.gguf.GgmlType.Q4_0 && w.rows() % 8 == 0 || w.type() == dev.kiri.gguf.GgmlType.Q4_K
                        || w.type() == dev.kiri.gguf.GgmlType.Q6_K,
                        w.interleaved() != null, w.name());
                return w;
            });
            assertTrue(counts[1] > 0, "some matrices copied");
            assertNull(copied.tokenEmbd().interleaved(), "the embedding table is looked up by row, never copied");
            assertEquals(plain.bytesPerToken() + counted(copied) - counted(plain), copied.bytesPerToken());
        }
    }

    private static long counted(ModelWeights w) {
        long[] n = {0};
        w.mapMatrices(m -> {
            n[0] += m.interleaved() != null ? m.interleaved().byteSize() : m.byteSize();
            return m;
        });
        return n[0];
    }

    /** Without the memory for the copies, loading goes on without them (a warning, not an error). */
    @Test
    void noMemoryForTheCopiesMeansNone() throws Exception {
        try (GgufFile f = GgufFile.open(TinyFixtures.model("tiny-llama-Q4_0.gguf")); Arena shared = Arena.ofShared()) {
            Arena full = new Arena() {
                @Override
                public MemorySegment allocate(long byteSize, long byteAlignment) {
                    throw new OutOfMemoryError("test: no memory for " + byteSize + " bytes");
                }

                @Override
                public MemorySegment.Scope scope() {
                    return shared.scope();
                }

                @Override
                public void close() {
                }
            };
            ModelWeights plain = bind(f);
            assertNull(CopyCache.makeOrNull(CopyCache.copied(plain), full, 2, "tiny-llama-Q4_0.gguf"));
        }
    }

    /** A CPU load with the Vector API kernels makes the copies; -Dkiri.interleave=false is read at each load. */
    @Test
    void aCpuLoadReadsTheCopies() throws Exception {
        try (Model m = TinyFixtures.load(TinyFixtures.model("tiny-llama-Q4_0.gguf"), LoadOptions.defaults().threads(1).contextLength(32))) {
            Weights wq = m.weights().layers().get(0).wq();
            boolean vector = "vector".equals(KernelsProvider.implementation());
            assertEquals(vector, wq.interleaved() != null, m.backend());
            assertEquals(vector, m.interleavedBytes() > 0, "interleavedBytes " + m.interleavedBytes());
        }
    }
}

package dev.kiri.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import dev.kiri.kernels.KvCache;
import dev.kiri.kernels.ScalarKernels;
import dev.kiri.runtime.model.Decoder;
import dev.kiri.runtime.model.ModelConfig;
import dev.kiri.runtime.model.ModelWeights;
import dev.kiri.runtime.model.State;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticModelTest {
    @TempDir
    Path tmp;

    /** A small shape of each family, so the test writes a few MB. */
    private static final ModelShape SMALL_LLAMA =
            new ModelShape("small-llama", "llama", 256, 2, 4, 2, 64, 512, 1000, 4096, 500000f, 1e-5f, false, true);
    private static final ModelShape SMALL_QWEN =
            new ModelShape("small-qwen", "qwen2", 128, 2, 2, 1, 64, 320, 700, 4096, 1e6f, 1e-6f, true, false);

    @Test
    void writtenModelLoadsWithTheMixTypesAndRunsToFiniteLogits() throws Exception {
        Path f = tmp.resolve("m.gguf");
        long size = SyntheticModel.write(SMALL_LLAMA, QuantMix.of("Q4_K_M", false), null, f, 2, 1, b -> { });
        assertEquals(size, Files.size(f));
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_v.weight").type()); // 2 layers: only the last gets more bits
            assertEquals(GgmlType.Q6_K, g.tensor("blk.1.attn_v.weight").type());
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F32, g.tensor("rope_freqs.weight").type());
            assertFinite(g);
        }
    }

    @Test
    void qwenShapeHasBiasesAndFallsBackOnShortRows() throws Exception {
        Path f = tmp.resolve("q.gguf");
        SyntheticModel.write(SMALL_QWEN, QuantMix.of("Q4_K_M", false), null, f, 1, 1, b -> { });
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(GgmlType.Q5_0, g.tensor("blk.0.attn_q.weight").type()); // rows of 128: no K-quant
            assertTrue(g.findTensor("blk.1.attn_k.bias").isPresent());
            assertFinite(g);
        }
    }

    @Test
    void sameSeedWritesTheSameFile() throws Exception {
        Path a = tmp.resolve("a.gguf");
        Path b = tmp.resolve("b.gguf");
        SyntheticModel.write(SMALL_LLAMA, QuantMix.of("Q8_0", false), null, a, 2, 7, x -> { });
        SyntheticModel.write(SMALL_LLAMA, QuantMix.of("Q8_0", false), null, b, 1, 7, x -> { });
        assertEquals(-1, Files.mismatch(a, b));
    }

    /** A forward pass of four tokens over {@code g} with the scalar kernels gives finite logits. */
    static void assertFinite(GgufFile g) {
        ModelConfig c = ModelConfig.fromMetadata(g.metadata(), "synthetic");
        ModelWeights w = ModelWeights.bind(g, c, 64);
        try (var k = new ScalarKernels()) {
            Decoder d = new Decoder(w, k, 64);
            State s = new State(w.config(), 64, 4, KvCache.Type.F16);
            d.forward(s, new int[] {1, 5, 9, 300}, 0, 4, null);
            for (float v : s.logits()) assertTrue(Float.isFinite(v));
        }
    }
}

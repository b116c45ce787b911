package dev.kiri.runtime.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Q2_K / Q3_K_S / Q3_K_M / Q3_K_L / Q4_K_S / Q5_K_S / Q5_K_M mixes written end to end: the file's
 * types and a forward pass over it.
 */
class SyntheticModelKQuantMixTest {
    @TempDir
    Path tmp;

    /** 8 layers, so Q4_K_S's first eighth (layer 0) and its first four attn_v differ. */
    private static final ModelShape SMALL_LLAMA =
            new ModelShape("small-llama", "llama", 256, 8, 4, 2, 64, 512, 1000, 4096, 500000f, 1e-5f, false, true);

    @Test
    void q5KMFileHasItsMixAndRuns() throws Exception {
        Path f = write("Q5_K_M");
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(17, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            // use_more_bits at 8 layers: 0, 3, 6, 7.
            for (int i = 0; i < 8; i++) {
                GgmlType more = i == 0 || i == 3 || i == 6 || i == 7 ? GgmlType.Q6_K : GgmlType.Q5_K;
                assertEquals(more, g.tensor("blk." + i + ".attn_v.weight").type(), "layer " + i);
                assertEquals(more, g.tensor("blk." + i + ".ffn_down.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q5_K, g.tensor("blk." + i + ".attn_q.weight").type(), "layer " + i);
            }
            SyntheticModelTest.assertFinite(g);
        }
    }

    @Test
    void q4KSAndQ5KSFilesHaveTheirMixAndRun() throws Exception {
        try (GgufFile g = GgufFile.open(write("Q4_K_S"))) {
            assertEquals(14, g.metadata().getInt("general.file_type"));
            for (int i = 0; i < 8; i++) {
                assertEquals(i < 4 ? GgmlType.Q5_K : GgmlType.Q4_K, g.tensor("blk." + i + ".attn_v.weight").type(), "layer " + i);
                assertEquals(i < 1 ? GgmlType.Q5_K : GgmlType.Q4_K, g.tensor("blk." + i + ".ffn_down.weight").type(), "layer " + i);
            }
            SyntheticModelTest.assertFinite(g);
        }
        try (GgufFile g = GgufFile.open(write("Q5_K_S"))) {
            assertEquals(16, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q5_K, g.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            SyntheticModelTest.assertFinite(g);
        }
    }

    @Test
    void q2KAndQ3KFilesHaveTheirMixAndRun() throws Exception {
        // SMALL_LLAMA has 4 query heads over 2 key/value heads: n_gqa() = 2, so Q2_K's attn_v is Q3_K.
        try (GgufFile g = GgufFile.open(write("Q2_K"))) {
            assertEquals(10, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            for (int i = 0; i < 8; i++) {
                String p = "blk." + i + ".";
                assertEquals(GgmlType.Q2_K, g.tensor(p + "attn_q.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q2_K, g.tensor(p + "ffn_up.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q3_K, g.tensor(p + "attn_v.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q3_K, g.tensor(p + "attn_output.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q3_K, g.tensor(p + "ffn_down.weight").type(), "layer " + i);
            }
            SyntheticModelTest.assertFinite(g);
        }
        try (GgufFile g = GgufFile.open(write("Q3_K_M"))) {
            assertEquals(12, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
            for (int i = 0; i < 8; i++) {
                String p = "blk." + i + ".";
                assertEquals(GgmlType.Q3_K, g.tensor(p + "attn_k.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q3_K, g.tensor(p + "ffn_gate.weight").type(), "layer " + i);
                assertEquals(i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K, g.tensor(p + "attn_v.weight").type(), "layer " + i);
                assertEquals(GgmlType.Q4_K, g.tensor(p + "attn_output.weight").type(), "layer " + i);
                // The first sixteenth of 8 layers is empty.
                assertEquals(GgmlType.Q4_K, g.tensor(p + "ffn_down.weight").type(), "layer " + i);
            }
            SyntheticModelTest.assertFinite(g);
        }
        try (GgufFile g = GgufFile.open(write("Q3_K_L"))) {
            assertEquals(13, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q5_K, g.tensor("blk.3.attn_v.weight").type());
            assertEquals(GgmlType.Q5_K, g.tensor("blk.3.attn_output.weight").type());
            assertEquals(GgmlType.Q5_K, g.tensor("blk.3.ffn_down.weight").type());
            assertEquals(GgmlType.Q3_K, g.tensor("blk.3.attn_q.weight").type());
        }
        try (GgufFile g = GgufFile.open(write("Q3_K_S"))) {
            assertEquals(11, g.metadata().getInt("general.file_type"));
            assertEquals(GgmlType.Q3_K, g.tensor("blk.0.attn_v.weight").type());
            assertEquals(GgmlType.Q3_K, g.tensor("blk.0.ffn_down.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("token_embd.weight").type());
        }
    }

    private Path write(String type) throws Exception {
        Path f = tmp.resolve(type + ".gguf");
        long size = SyntheticModel.write(SMALL_LLAMA, QuantMix.of(type, false), null, f, 2, 1, b -> { });
        assertEquals(size, Files.size(f));
        return f;
    }
}

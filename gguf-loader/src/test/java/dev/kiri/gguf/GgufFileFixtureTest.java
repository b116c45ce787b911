package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GgufFileFixtureTest {

    @Test
    void opensTinyLlamaWithItsMetadataAndTensors() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("models/tiny-llama-Q4_0.gguf"))) {
            assertEquals(3, f.version());
            assertEquals("llama", f.metadata().getString("general.architecture"));
            assertEquals(256, f.metadata().getInt("llama.embedding_length"));
            assertEquals(512, f.metadata().getStringArray("tokenizer.ggml.tokens").length);
            GgufTensor k = f.tensor("blk.0.attn_k.weight");
            assertEquals(GgmlType.Q4_0, k.type());
            assertEquals(256, k.rowLength());
            assertEquals(128, k.rows());
            assertEquals(128L * 256 / 32 * 18, k.byteSize());
            // 2 layers x 9 tensors + token_embd, output_norm, output
            assertEquals(21, f.tensors().size());
            assertTrue(f.tensors().stream().allMatch(t -> t.fileOffset() % f.alignment() == 0));
        }
    }
}

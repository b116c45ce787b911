package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

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

    @Test
    void everyFixtureModelOpensAndEveryTensorsFirstAndLastRowDequantize() throws Exception {
        List<Path> models;
        try (Stream<Path> files = Files.list(Fixtures.file("models"))) {
            models = files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList();
        }
        assertTrue(models.size() >= 27, "fixture models found: " + models.size());
        for (Path model : models) {
            try (GgufFile f = GgufFile.open(model)) {
                assertFalse(f.metadata().getString("general.architecture").isEmpty(), model.toString());
                long bytes = 0;
                for (GgufTensor t : f.tensors()) {
                    assertTrue(Dequant.supports(t.type()), model + " " + t);
                    float[] row = new float[(int) t.rowLength()];
                    for (long r : new long[]{0, t.rows() - 1}) {
                        Dequant.row(t.type(), t.data(), r * t.rowBytes(), row, 0, row.length);
                        for (float x : row) assertTrue(Float.isFinite(x), model + " " + t + " row " + r + " has a non-finite value");
                    }
                    bytes += t.byteSize();
                }
                assertTrue(bytes <= f.fileSize() && bytes > f.fileSize() / 2, model + ": tensor bytes " + bytes);
            }
        }
    }
}

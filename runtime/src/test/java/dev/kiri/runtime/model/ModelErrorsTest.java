package dev.kiri.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufWriter;
import dev.kiri.runtime.UnsupportedModelException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelErrorsTest {
    @TempDir
    Path tmp;

    /** A copy of the tiny llama with one metadata value replaced and the tensors {@code keep} accepts. */
    private Path variant(String key, GgufValue value, Predicate<String> keep) throws IOException {
        Path out = tmp.resolve("variant.gguf");
        try (GgufFile f = GgufFile.open(RefLogits.model("tiny-llama-F32.gguf"))) {
            GgufWriter w = new GgufWriter();
            boolean newArch = key.equals("general.architecture");
            f.metadata().asMap().forEach((k, v) -> {
                String name = newArch && k.startsWith("llama.") ? value.value() + k.substring(5) : k;
                w.put(name, k.equals(key) ? value : v);
            });
            for (GgufTensor t : f.tensors()) if (keep.test(t.name())) w.addTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(out);
        }
        return out;
    }

    private static UnsupportedModelException bindFails(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            return assertThrows(UnsupportedModelException.class, () -> {
                ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "variant.gguf");
                ModelWeights.bind(f, c, c.contextLength());
            });
        }
    }

    @Test
    void unsupportedArchitectureIsNamedWithTheSupportedList() throws IOException {
        var e = bindFails(variant("general.architecture", GgufValue.ofString("mamba"), n -> true));
        assertTrue(e.getMessage().contains("'mamba'"), e.getMessage());
        for (String a : Architecture.supported()) assertTrue(e.getMessage().contains(a), e.getMessage());
    }

    @Test
    void missingTensorIsNamedWithTheArchitecture() throws IOException {
        var e = bindFails(variant("general.name", GgufValue.ofString("x"), n -> !n.equals("blk.1.ffn_up.weight")));
        assertTrue(e.getMessage().contains("blk.1.ffn_up.weight is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("llama"), e.getMessage());
    }

    @Test
    void qwen2WithoutItsBiasesIsRefused() throws IOException {
        var e = bindFails(variant("general.architecture", GgufValue.ofString("qwen2"), n -> true));
        assertTrue(e.getMessage().contains("blk.0.attn_q.bias is missing"), e.getMessage());
    }

    @Test
    void missingOutputMatrixMeansTiedEmbeddings() throws IOException {
        try (GgufFile f = GgufFile.open(variant("general.name", GgufValue.ofString("x"), n -> !n.equals("output.weight")))) {
            ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "variant.gguf");
            ModelWeights w = ModelWeights.bind(f, c, c.contextLength());
            assertEquals("token_embd.weight", w.output().name());
        }
    }

    @Test
    void slidingWindowPatternsResolvePerLayer() throws IOException {
        try (GgufFile f = GgufFile.open(RefLogits.model("tiny-hf-exaone4-F32.gguf"))) {
            ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "x");
            assertEquals(8, c.slidingWindow());
            assertEquals("[true, true, true, false]", java.util.Arrays.toString(c.slidingLayers()));
            assertEquals("[true, true, true, false]", java.util.Arrays.toString(c.ropeLayers()), "global layer has no RoPE");
        }
        try (GgufFile f = GgufFile.open(RefLogits.model("tiny-hf-gemma3-F32.gguf"))) {
            ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "x");
            assertEquals("[true, true, true, true, true, false]", java.util.Arrays.toString(c.slidingLayers()));
            assertEquals(1e6f, c.ropeBase());
            assertEquals(1e4f, c.ropeBaseSwa());
        }
        try (GgufFile f = GgufFile.open(RefLogits.model("tiny-hf-gemma2-F32.gguf"))) {
            ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "x");
            assertEquals("[true, false, true, false]", java.util.Arrays.toString(c.slidingLayers()));
            assertEquals(5f, c.attnSoftcap());
            assertEquals(3f, c.finalSoftcap());
        }
        try (GgufFile f = GgufFile.open(RefLogits.model("tiny-llama-F32.gguf"))) {
            ModelConfig c = ModelConfig.fromMetadata(f.metadata(), "x");
            assertEquals(0, c.slidingWindow());
            for (boolean s : c.slidingLayers()) assertFalse(s);
        }
    }
}

package dev.kiri.runtime;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufWriter;
import dev.kiri.runtime.model.TinyModels;
import dev.kiri.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The fixture models and their sidecars, as the API tests use them. */
final class TinyFixtures {
    private TinyFixtures() {
    }

    static Path model(String file) {
        return Fixtures.file("models/" + file);
    }

    static String sidecar(String stem) throws IOException {
        return Files.readString(Fixtures.file("refs/" + stem + ".json"));
    }

    static int[] intArray(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new AssertionError("sidecar has no " + key);
        return Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
    }

    /** A model with its tokenizer and a plain "role: content" chat template (the fixtures have none). */
    static Model load(Path model, LoadOptions options) throws IOException {
        return Model.load(model, options, Tokenizers::load, (md, name) -> TinyFixtures::render);
    }

    /** A model without tokenizer or chat template: token ids only. */
    static Model idsOnly(Path model, LoadOptions options) throws IOException {
        return Model.load(model, options, (md, name) -> null, (md, name) -> null);
    }

    static String render(List<Message> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<s>");
        for (Message m : messages) sb.append(m.role()).append(": ").append(m.content()).append('\n');
        if (addGenerationPrompt) sb.append("assistant:");
        return sb.toString();
    }

    /** The F32 twin of an F16 fixture (see {@link TinyModels#widenToF32}). */
    static Path widenToF32(Path f16Model, Path dir) throws IOException {
        return TinyModels.widenToF32(f16Model, dir);
    }

    /** A copy of the tiny llama with one metadata value replaced. */
    static Path withMetadata(Path dir, String key, GgufValue value) throws IOException {
        Path out = dir.resolve("variant.gguf");
        try (GgufFile f = GgufFile.open(model("tiny-llama-F32.gguf"))) {
            GgufWriter w = new GgufWriter();
            f.metadata().asMap().forEach((k, v) -> w.put(k, k.equals(key) ? value : v));
            for (GgufTensor t : f.tensors()) w.addTensor(t.name(), t.type(), t.shape(), t.data());
            w.write(out);
        }
        return out;
    }
}

package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every fixture model's tokenizer loads and gives text back unchanged, Japanese and Korean included. */
class ModelTokenizersTest {
    private static final String TEXT = "Hello, world! 日本語のテキスト、한국어 문장 and 🦙 emoji.\n";

    @TestFactory
    Stream<DynamicTest> everyFixtureModelTokenizerRoundTrips() throws IOException {
        Path models = Fixtures.file("models");
        Stream<Path> files;
        try (Stream<Path> s = Files.list(models)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".gguf")).sorted().toList().stream();
        }
        return files.map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> {
            Tokenizer t = VocabFixtures.tokenizer(p);
            int[] ids = t.encode(TEXT, false, false);
            assertTrue(ids.length > 0);
            String back = t.decode(ids, false);
            if (t.cleansSpaces()) {
                byte[] b = TEXT.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                int n = Texts.cleanSpaces(b, b.length);
                assertEquals(new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8), back);
            } else {
                assertEquals(TEXT, back);
            }
            for (int id : ids) assertTrue(id >= 0 && id < t.vocabularySize());
            assertTrue(t.bos() < t.vocabularySize());
        }));
    }

}

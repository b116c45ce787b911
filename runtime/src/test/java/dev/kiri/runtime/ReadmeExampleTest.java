package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiri.gguf.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's API example, verbatim: it must compile, run, and be the text the README shows. */
class ReadmeExampleTest {

    static GenerationResult example(Path modelFile) throws Exception {
        GenerationResult out;
        // README begin
        try (Model model = Model.load(modelFile, LoadOptions.defaults().threads(4))) {
            GenerationResult result = model.generate("Once upon a time",
                    GenerateOptions.defaults().maxTokens(64).temperature(0.7f).seed(42).stop("\n\n"),
                    (text, tokenId) -> System.out.print(text));   // well-formed text as it is generated
            System.out.println();
            System.out.println(result.finishReason() + ": " + result.timings()); // load, prompt and decode tok/s
        // README end
            out = result;
        }
        return out;
    }

    @Test
    void theReadmeShowsThisExample() throws Exception {
        String source = Files.readString(Path.of("src/test/java/dev/kiri/runtime/ReadmeExampleTest.java"));
        String code = source.substring(source.indexOf("// README begin\n") + 16, source.indexOf("        // README end"));
        StringBuilder expected = new StringBuilder();
        for (String line : code.split("\n")) expected.append(line.length() >= 8 ? line.substring(8) : line.strip()).append('\n');
        String readme = Files.readString(Path.of("../README.md"));
        assertTrue(readme.contains(expected + "}\n"), "README.md must show:\n" + expected + "}");
    }

    @Test
    void theExampleRuns() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        GenerationResult r;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            r = example(Fixtures.file("models/tiny-llama-Q8_0.gguf"));
        } finally {
            System.setOut(old);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith(r.text() + System.lineSeparator()), printed);
        assertTrue(printed.contains(r.finishReason() + ": load "), printed);
        assertTrue(r.tokens().length > 0);
        assertEquals(42, r.seed());
    }
}

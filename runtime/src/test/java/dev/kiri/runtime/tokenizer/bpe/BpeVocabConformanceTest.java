package dev.kiri.runtime.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.kiri.gguf.Fixtures;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of llama.cpp's tokenizer tests for the byte-level BPE vocabularies, and of the
 * Japanese/Korean/Chinese set, must give exactly the expected ids: pre-tokenizer from
 * {@code tokenizer.ggml.pre}, merges from the file, no BOS/EOS, control tokens not parsed.
 */
class BpeVocabConformanceTest {
    static final List<String> VOCABS = List.of("gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
            "falcon", "starcoder", "refact", "mpt");

    @TestFactory
    Stream<DynamicNode> standardCases() throws IOException {
        List<DynamicNode> out = new ArrayList<>();
        for (String vocab : VOCABS) {
            Path inp = Fixtures.file("vocab/ggml-vocab-" + vocab + ".gguf.inp");
            Path outFile = Fixtures.file("vocab/ggml-vocab-" + vocab + ".gguf.out");
            out.add(container(vocab, inp, outFile, null));
        }
        return out.stream();
    }

    @TestFactory
    Stream<DynamicNode> cjkCases() throws IOException {
        List<String> names = Files.readAllLines(Fixtures.file("vocab/cjk/cjk.inp.names"));
        List<DynamicNode> out = new ArrayList<>();
        for (String vocab : VOCABS) {
            Path inp = Fixtures.file("vocab/cjk/ggml-vocab-" + vocab + ".gguf.cjk.inp");
            Path outFile = Fixtures.file("vocab/cjk/ggml-vocab-" + vocab + ".gguf.cjk.out");
            out.add(container(vocab, inp, outFile, names));
        }
        return out.stream();
    }

    private static DynamicContainer container(String vocab, Path inp, Path outFile, List<String> names)
            throws IOException {
        List<String> cases = VocabFixture.readInp(inp);
        List<int[]> expected = VocabFixture.readOut(outFile);
        assertEquals(cases.size(), expected.size(), inp + " and " + outFile + " have different case counts");
        List<DynamicNode> tests = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            String text = cases.get(i);
            int[] want = expected.get(i);
            String label = "#" + i + " " + (names != null && i < names.size() ? names.get(i) : preview(text));
            tests.add(dynamicTest(label, () -> {
                VocabFixture v = VocabFixture.load(vocab);
                int[] got = v.encode(text);
                assertArrayEquals(want, got, () -> vocab + " case " + label + ": input " + escape(text)
                        + "\n expected " + Arrays.toString(want) + "\n got      " + Arrays.toString(got)
                        + "\n pieces   " + escapeAll(v.spec.preTokenizer().split(text)));
            }));
        }
        return DynamicContainer.dynamicContainer(vocab, tests);
    }

    private static String preview(String s) {
        String e = escape(s);
        return e.length() > 40 ? e.substring(0, 40) + "…" : e;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '\n') b.append("\\n");
            else if (cp == '\r') b.append("\\r");
            else if (cp == '\t') b.append("\\t");
            else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA1) || Character.isWhitespace(cp) && cp != ' ')
                b.append(String.format("\\u%04X", cp));
            else b.appendCodePoint(cp);
        });
        return b.append('"').toString();
    }

    private static String escapeAll(List<String> pieces) {
        StringBuilder b = new StringBuilder("[");
        for (String p : pieces) b.append(b.length() > 1 ? ", " : "").append(escape(p));
        return b.append(']').toString();
    }
}

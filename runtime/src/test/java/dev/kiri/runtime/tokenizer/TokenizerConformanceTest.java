package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The test of issue 3: every {@code .inp}/{@code .out} pair under {@code vocab/} (llama.cpp's own
 * tokenizer tests, the Japanese/Korean/Chinese set and the tiny models' vocabulary) encodes to
 * exactly the expected ids with add_special = false and parse_special = false, as llama.cpp's
 * {@code test-tokenizer-0} runs them. Decoding the expected ids gives the input back wherever
 * llama.cpp's {@code llama_detokenize} does ({@code cjk/detokenize-report.json}), and a
 * {@link StreamingDecoder} fed one id at a time gives the same text.
 */
class TokenizerConformanceTest {

    /** One test set: an .inp/.out pair and the GGUF whose vocabulary it is for. */
    record TestSet(String label, Path gguf, Path inp, Path out, List<String> names, String reportVocab, String reportSet) {
    }

    static List<TestSet> testSets() {
        Path vocab = Fixtures.file("vocab");
        List<TestSet> sets = new ArrayList<>();
        List<String> cjkNames = lines(Fixtures.file("vocab/cjk/cjk.inp.names"));
        for (Path inp : list(vocab, ".gguf.inp")) {
            String gguf = name(inp).substring(0, name(inp).length() - ".inp".length());
            sets.add(new TestSet(gguf, vocab.resolve(gguf), inp, sibling(inp, ".out"), null, gguf, "standard"));
        }
        for (Path inp : list(vocab.resolve("cjk"), ".gguf.cjk.inp")) {
            String gguf = name(inp).substring(0, name(inp).length() - ".cjk.inp".length());
            sets.add(new TestSet(gguf + " cjk", vocab.resolve(gguf), inp, sibling(inp, ".out"), cjkNames, gguf, "cjk"));
        }
        for (Path inp : list(vocab.resolve("tiny"), ".inp")) {
            boolean cjk = name(inp).endsWith(".cjk.inp");
            String gguf = name(inp).substring(0, name(inp).length() - (cjk ? ".cjk.inp" : ".inp").length());
            sets.add(new TestSet("tiny " + gguf + (cjk ? " cjk" : ""), Fixtures.file("models/" + gguf), inp,
                    sibling(inp, ".out"), cjk ? cjkNames : null, gguf + " (models/)", cjk ? "cjk" : "standard"));
        }
        if (sets.size() < 20) throw new AssertionError("expected the vocab fixture sets under " + vocab + ", found " + sets.size());
        return sets;
    }

    @TestFactory
    Stream<DynamicNode> everyCaseEncodesToTheExpectedIds() {
        Map<String, Object> report = DetokenizeReport.load();
        return testSets().stream().map(set -> {
            List<String> cases = VocabFixtures.readInp(set.inp());
            List<int[]> expected = VocabFixtures.readOut(set.out());
            List<DynamicNode> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest("case count", () ->
                    assertEquals(cases.size(), expected.size(), set.inp() + " and " + set.out() + " disagree on the number of cases")));
            for (int i = 0; i < Math.min(cases.size(), expected.size()); i++) {
                int k = i;
                String name = "#" + i + (set.names() != null && i < set.names().size() ? " " + set.names().get(i) : "")
                        + " " + preview(cases.get(i));
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Tokenizer t = VocabFixtures.tokenizer(set.gguf());
                    int[] ids = t.encode(cases.get(k), false, false);
                    assertArrayEquals(expected.get(k), ids, () -> set.label() + " case " + k + " " + preview(cases.get(k))
                            + "\n expected " + Arrays.toString(expected.get(k)) + "\n actual   " + Arrays.toString(ids));
                    checkDecode(t, set, k, cases.get(k), expected.get(k), report);
                }));
            }
            return DynamicContainer.dynamicContainer(set.label(), tests);
        });
    }

    /** Decoding the expected ids (whole and streamed) gives the input back as llama.cpp does. */
    private static void checkDecode(Tokenizer t, TestSet set, int k, String input, int[] ids, Map<String, Object> report) {
        byte[] in = input.getBytes(StandardCharsets.UTF_8);
        byte[] cleaned = in.clone();
        int n = t.cleansSpaces() ? Texts.cleanSpaces(cleaned, cleaned.length) : cleaned.length;
        String expectedText = new String(cleaned, 0, n, StandardCharsets.UTF_8);

        // cross-check against what llama.cpp printed, where the report covers this vocabulary
        String reported = DetokenizeReport.detokenized(report, set.reportVocab(), set.reportSet(), k);
        if (reported != null) {
            assertNotEquals(input, expectedText, "the report lists case " + k + " as not round-tripping");
            var m = java.util.regex.Pattern.compile("(?s)(.*) …\\[truncated, (\\d+) bytes total]").matcher(reported);
            if (m.matches()) { // long strings are cut in the report: compare the prefix and the length
                assertTrue(expectedText.startsWith(m.group(1)), "report prefix " + m.group(1));
                assertEquals(Integer.parseInt(m.group(2)), expectedText.getBytes(StandardCharsets.UTF_8).length);
            } else {
                assertEquals(reported, expectedText);
            }
        } else if (DetokenizeReport.covers(report, set.reportVocab(), set.reportSet())) {
            assertEquals(input, expectedText, "the report says case " + k + " round-trips");
        }

        assertEquals(expectedText, t.decode(ids, true), "decode of the expected ids");

        // the raw pieces: the input itself, or with the SentencePiece space prefix in front
        var pieces = new java.io.ByteArrayOutputStream();
        for (int id : ids) pieces.writeBytes(t.tokenBytes(id, true));
        String raw = pieces.toString(StandardCharsets.UTF_8);
        assertEquals(t.stripsLeadingSpace() && !input.isEmpty() ? " " + input : input, raw, "concatenated pieces");

        // streaming, one id at a time, gives the same text and never a replacement character
        StreamingDecoder sd = StreamingDecoder.forText(t, true);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String part = sd.accept(id);
            if (!input.contains("\uFFFD")) assertFalse(part.contains("\uFFFD"), () -> "streamed U+FFFD after id " + id);
            sb.append(part);
        }
        sb.append(sd.flush());
        assertEquals(expectedText, sb.toString(), "streamed text");
    }

    private static String preview(String s) {
        String p = s.length() > 24 ? s.substring(0, 24) + "…" : s;
        return "'" + p.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + "'";
    }

    private static List<Path> list(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(p -> name(p).endsWith(suffix) && !name(p).startsWith("cjk.inp")).sorted().toList();
            if (l.isEmpty()) throw new AssertionError("no *" + suffix + " files in " + dir);
            return l;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path sibling(Path inp, String ext) {
        String n = name(inp);
        Path out = inp.resolveSibling(n.substring(0, n.length() - ".inp".length()) + ext);
        if (!Files.exists(out)) throw new AssertionError("missing " + out + " for " + inp);
        return out;
    }

    private static String name(Path p) {
        return p.getFileName().toString();
    }

    private static List<String> lines(Path p) {
        return Arrays.asList(new String(VocabFixtures.read(p), StandardCharsets.UTF_8).split("\n"));
    }
}

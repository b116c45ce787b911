package dev.kiri.runtime.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufFile;

/** Loads fixture vocabularies (once per JVM) and reads llama.cpp's {@code .inp}/{@code .out} files. */
final class VocabFixtures {
    private VocabFixtures() {
    }

    static final byte[] SEPARATOR = "\n__ggml_vocab_test__\n".getBytes(StandardCharsets.UTF_8);

    private static final Map<Path, Tokenizer> CACHE = new ConcurrentHashMap<>();

    /** The tokenizer of a GGUF file, loaded once. */
    static Tokenizer tokenizer(Path gguf) {
        return CACHE.computeIfAbsent(gguf, p -> {
            try (GgufFile f = GgufFile.open(p)) {
                return Tokenizers.load(f.metadata(), p.getFileName().toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** A tokenizer of a vocabulary in {@code vocab/}, e.g. {@code "llama-spm"}. */
    static Tokenizer vocab(String name) {
        return tokenizer(Fixtures.file("vocab/ggml-vocab-" + name + ".gguf"));
    }

    /** The tiny models' 512-token SentencePiece vocabulary. */
    static Tokenizer tiny() {
        return tokenizer(Fixtures.file("models/tiny-llama-F32.gguf"));
    }

    /** The cases of an {@code .inp} file: raw bytes split on the separator, the empty tail dropped. */
    static List<String> readInp(Path inp) {
        byte[] b = read(inp);
        List<String> cases = new ArrayList<>();
        int start = 0;
        for (int i = 0; i + SEPARATOR.length <= b.length; ) {
            if (Arrays.equals(b, i, i + SEPARATOR.length, SEPARATOR, 0, SEPARATOR.length)) {
                cases.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                i += SEPARATOR.length;
                start = i;
            } else {
                i++;
            }
        }
        if (start != b.length) throw new AssertionError(inp + ": does not end with the case separator");
        return cases;
    }

    /** The expected ids of an {@code .out} file, one array per line. */
    static List<int[]> readOut(Path out) {
        String s = new String(read(out), StandardCharsets.UTF_8);
        List<int[]> lines = new ArrayList<>();
        for (String line : s.split("\n", -1)) lines.add(parseIds(line));
        if (!lines.isEmpty() && s.endsWith("\n")) lines.removeLast();
        return lines;
    }

    static int[] parseIds(String line) {
        String t = line.trim();
        if (t.isEmpty()) return new int[0];
        return Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray();
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package dev.kiri.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import dev.kiri.gguf.GgufFile;
import dev.kiri.runtime.tokenizer.StreamingDecoder;
import dev.kiri.runtime.tokenizer.Tokenizer;
import dev.kiri.runtime.tokenizer.Tokenizers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tokenizer throughput on one thread: encode, decode and streaming decode of about 256 KiB of
 * English, Japanese or Korean text with a SentencePiece ({@code llama-spm}) and a byte-level BPE
 * ({@code llama-bpe}) vocabulary from the shared fixtures ({@code -Dkiri.fixtures=DIR}, default
 * {@code ../shared/fixtures}). MB/s = {@link #TEXT_BYTES} / (time per op).
 *
 * <p>The text is assembled at setup: English from a fixed word list by a seeded random
 * generator; Japanese and Korean from the fixtures' CJK test sentences ({@code vocab/cjk/cjk.inp}),
 * shuffled and repeated.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class TokenizerBenchmark {
    /** Size of the text each operation processes, in UTF-8 bytes (the text is cut to this at a character boundary). */
    public static final int TEXT_BYTES = 256 * 1024;

    @Param({"llama-spm", "llama-bpe"})
    public String vocab;

    @Param({"en", "ja", "ko"})
    public String lang;

    private Tokenizer tokenizer;
    private String text;
    private int[] ids;

    @Setup
    public void setUp() throws IOException {
        Path fixtures = Path.of(System.getProperty("kiri.fixtures", "../shared/fixtures"));
        Path gguf = fixtures.resolve("vocab/ggml-vocab-" + vocab + ".gguf");
        try (GgufFile f = GgufFile.open(gguf)) {
            tokenizer = Tokenizers.load(f.metadata(), gguf.getFileName().toString());
        }
        text = switch (lang) {
            case "en" -> english();
            case "ja", "ko" -> fromCases(fixtures, lang + "-");
            default -> throw new IllegalArgumentException("lang " + lang);
        };
        ids = tokenizer.encode(text, false, false);
        if (!tokenizer.decode(ids, false).equals(text)) throw new IllegalStateException("round trip failed");
        System.out.printf("%n%s %s: %d bytes, %d chars, %d tokens%n", vocab, lang,
                text.getBytes(StandardCharsets.UTF_8).length, text.length(), ids.length);
    }

    /** UTF-8 size of the text each operation processes (after {@link #setUp}). */
    public int textBytes() {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(text, false, false);
    }

    @Benchmark
    public String decode() {
        return tokenizer.decode(ids, false);
    }

    @Benchmark
    public int streamDecode() {
        StreamingDecoder d = StreamingDecoder.forText(tokenizer, false);
        int chars = 0;
        for (int id : ids) chars += d.accept(id).length();
        return chars + d.flush().length();
    }

    private static String english() {
        String[] words = ("the a of to and in is that for it as was with on by be at this from or which an are "
                + "model token text runtime memory weights layer cache vector matrix kernel thread quantized "
                + "fast small large value number first last time data file system user question answer "
                + "Java Tokyo Seoul 2025 3.14 I'm don't we've they'll").split(" ");
        Random r = new Random(42);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < TEXT_BYTES) {
            int n = 6 + r.nextInt(14);
            for (int i = 0; i < n; i++) {
                String w = words[r.nextInt(words.length)];
                sb.append(i == 0 ? Character.toUpperCase(w.charAt(0)) + w.substring(1) : w);
                sb.append(i == n - 1 ? (r.nextInt(5) == 0 ? "?" : ".") : (r.nextInt(9) == 0 ? ", " : " "));
            }
            sb.append(r.nextInt(6) == 0 ? "\n\n" : " ");
        }
        return cut(sb.toString());
    }

    /** Sentences of the CJK fixture cases whose names start with {@code prefix}, shuffled and repeated. */
    private static String fromCases(Path fixtures, String prefix) throws IOException {
        byte[] inp = Files.readAllBytes(fixtures.resolve("vocab/cjk/cjk.inp"));
        List<String> names = Files.readAllLines(fixtures.resolve("vocab/cjk/cjk.inp.names"));
        String[] cases = new String(inp, StandardCharsets.UTF_8).split("\n__ggml_vocab_test__\n", -1);
        List<String> picked = new ArrayList<>();
        for (int i = 0; i < names.size() && i < cases.length; i++) {
            if (names.get(i).startsWith(prefix) || names.get(i).equals("long-" + prefix.substring(0, 2))) {
                picked.add(cases[i]);
            }
        }
        if (picked.isEmpty()) throw new IllegalStateException("no " + prefix + "* cases in cjk.inp");
        Random r = new Random(7);
        StringBuilder sb = new StringBuilder();
        while (sb.toString().getBytes(StandardCharsets.UTF_8).length < TEXT_BYTES) {
            for (int i = 0; i < 64; i++) sb.append(picked.get(r.nextInt(picked.size()))).append('\n');
        }
        return cut(sb.toString());
    }

    /** The longest prefix of at most TEXT_BYTES UTF-8 bytes that ends at a character boundary. */
    private static String cut(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, TEXT_BYTES);
        while (n > 0 && n < b.length && (b[n] & 0xC0) == 0x80) n--;
        return new String(Arrays.copyOf(b, n), StandardCharsets.UTF_8);
    }
}

package dev.kiri.jmh;

import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.runtime.tokenizer.bpe.BpeEncoder;
import dev.kiri.runtime.tokenizer.bpe.BpeSpec;
import dev.kiri.runtime.tokenizer.bpe.PreTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The byte-level BPE half of encoding on one thread: pre-tokenize ({@code split}) and merge
 * ({@code encode}, split plus merges) about 256 KiB of English, Japanese or Korean text with a
 * vocabulary fixture's tokens and merges. Throughput is {@code textBytes} divided by the time of
 * one call. Needs the shared fixtures: {@code -p fixtures=PATH} (default {@code ../shared/fixtures}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class BpeEncodeBenchmark {
    private static final String EN = "The quick brown fox jumps over the lazy dog, and then it isn't tired at all. "
            + "In 2024, researchers measured 1,234 samples; they'd expected fewer than 900! "
            + "Tokenizers split text into words, numbers and punctuation before merging bytes.\n"
            + "    def encode(self, text: str) -> list[int]:\n        return self._bpe(text)\n";
    private static final String JA = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
            + "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。東京は２０２５年も晴れ。\n";
    private static final String KO = "대한민국의 수도는 서울입니다. 오늘 날씨가 정말 좋네요! "
            + "한국어 형태소 분석은 어렵지만 재미있습니다. 2025년 11월 29일에 만나요.\n";

    @Param({"llama-bpe", "qwen2"})
    public String vocab;

    @Param({"en", "ja", "ko"})
    public String lang;

    @Param({"../shared/fixtures"})
    public String fixtures;

    private PreTokenizer pre;
    private BpeEncoder encoder;
    private String text;
    private final Sink sink = new Sink();

    /** Counts ids so the work cannot be dropped. */
    static final class Sink implements IntConsumer {
        long sum;

        @Override
        public void accept(int id) {
            sum += id;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Path file = Path.of(fixtures, "vocab", "ggml-vocab-" + vocab + ".gguf");
        if (!Files.isRegularFile(file)) throw new IllegalStateException("vocab fixture not found: " + file);
        try (GgufFile f = GgufFile.open(file)) {
            GgufMetadata md = f.metadata();
            BpeSpec spec = BpeSpec.forPre(md.getString("tokenizer.ggml.pre"));
            pre = spec.preTokenizer();
            encoder = new BpeEncoder(md.getStringArray("tokenizer.ggml.tokens"),
                    md.getStringArray("tokenizer.ggml.merges"), spec.ignoreMerges());
        }
        String unit = switch (lang) {
            case "en" -> EN;
            case "ja" -> JA;
            case "ko" -> KO;
            default -> throw new IllegalArgumentException("lang " + lang);
        };
        StringBuilder b = new StringBuilder();
        int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
        for (int n = 0; n < 256 * 1024; n += unitBytes) b.append(unit);
        text = b.toString();
    }

    /** Size of the benchmark text in UTF-8 bytes. */
    public int textBytes() {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }

    @Benchmark
    public int split() {
        return pre.split(text).size();
    }

    @Benchmark
    public long encode() {
        List<String> words = pre.split(text);
        for (int i = 0, n = words.size(); i < n; i++) encoder.encode(words.get(i), sink);
        return sink.sum;
    }
}

package dev.kiri.jmh;

import dev.kiri.runtime.chat.ChatTemplate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 * A chat template rendering a four-message Japanese conversation: {@link #parseAndRender} makes the
 * {@link ChatTemplate} (source rewrite and parse) and renders once, which is what a first turn
 * costs; {@link #render} reuses the parsed template, as every later turn does.
 *
 * <p>Reads the template from the fixtures ({@code -Dkiri.fixtures=DIR}, default
 * {@code ../shared/fixtures}), so run it from the repository root.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ChatTemplateBenchmark {
    @Param({"meta-llama-Llama-3.1-8B-Instruct", "Qwen-Qwen2.5-7B-Instruct"})
    public String template;

    private static final LocalDateTime NOW = LocalDateTime.of(2026, 11, 22, 9, 30);
    private static final List<Map<String, Object>> MESSAGES = List.of(
            Map.of("role", "system", "content", "あなたは誠実で優秀な日本人のアシスタントです。"),
            Map.of("role", "user", "content", "日本の首都はどこですか？"),
            Map.of("role", "assistant", "content", "日本の首都は東京です。"),
            Map.of("role", "user", "content", "では、東京の人口はどのくらいですか？"));

    private String source;
    private ChatTemplate parsed;

    @Setup
    public void load() throws IOException {
        Path dir = Path.of(System.getProperty("kiri.fixtures", "../shared/fixtures"), "templates");
        source = Files.readString(dir.resolve(template + ".jinja"));
        parsed = ChatTemplate.of(source, "<|begin_of_text|>", "<|eot_id|>");
    }

    @Benchmark
    public String parseAndRender() {
        return ChatTemplate.of(source, "<|begin_of_text|>", "<|eot_id|>").render(MESSAGES, null, true, NOW);
    }

    @Benchmark
    public String render() {
        return parsed.render(MESSAGES, null, true, NOW);
    }
}

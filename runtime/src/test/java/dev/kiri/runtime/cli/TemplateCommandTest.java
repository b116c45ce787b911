package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufValueType;
import dev.kiri.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TemplateCommandTest {
    @TempDir
    Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    /** A case of a template fixture: its context's messages/tools written as files, and what it expects. */
    private record Case(Path template, Path messages, Path tools, Map<String, Object> context, Map<String, Object> expectation) {
    }

    @SuppressWarnings("unchecked")
    private Case fixtureCase(String name, String caseName) throws Exception {
        Path file = Fixtures.file("templates/" + name + ".cases.json");
        Map<String, Object> doc = JSON.readValue(file.toFile(), new TypeReference<>() {
        });
        for (Map<String, Object> c : (List<Map<String, Object>>) doc.get("cases")) {
            if (!caseName.equals(c.get("name"))) continue;
            Map<String, Object> ctx = (Map<String, Object>) c.get("context");
            Path messages = dir.resolve(caseName + ".messages.json");
            JSON.writeValue(messages.toFile(), ctx.get("messages"));
            Path tools = null;
            if (ctx.get("tools") != null) {
                tools = dir.resolve(caseName + ".tools.json");
                JSON.writeValue(tools.toFile(), ctx.get("tools"));
            }
            return new Case(file.resolveSibling((String) doc.get("template")), messages, tools, ctx, c);
        }
        throw new AssertionError("no case " + caseName + " in " + file);
    }

    @Test
    void printsTheRenderedPromptExactlyWithoutANewline() throws Exception {
        Case c = fixtureCase("meta-llama-Llama-3.2-3B-Instruct", "ko-system-multiturn");
        CliRun r = run("template", "--template", c.template().toString(), "--messages", c.messages().toString(),
                "--bos-token", (String) c.context().get("bos_token"), "--eos-token", (String) c.context().get("eos_token"),
                "--now", "2026-11-22T09:30:00");
        assertEquals(0, r.status(), r.err());
        assertEquals(c.expectation().get("expected"), r.out());
        assertTrue(r.out().contains("Today Date: 22 Nov 2026"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void toolsAndNoGenerationPrompt() throws Exception {
        Case tools = fixtureCase("Qwen-Qwen2.5-7B-Instruct", "tools-weather-ja");
        CliRun r = run("template", "--template", tools.template().toString(), "--messages", tools.messages().toString(),
                "--tools", tools.tools().toString(), "--eos-token", "<|im_end|>");
        assertEquals(0, r.status(), r.err());
        assertEquals(tools.expectation().get("expected"), r.out());

        Case noPrompt = fixtureCase("Qwen-Qwen2.5-7B-Instruct", "en-no-generation-prompt");
        CliRun s = run("template", "--template", noPrompt.template().toString(), "--messages", noPrompt.messages().toString(),
                "--no-generation-prompt");
        assertEquals(0, s.status(), s.err());
        assertEquals(noPrompt.expectation().get("expected"), s.out());
    }

    @Test
    void theTemplatesOwnErrorGoesToStderrWithStatusOne() throws Exception {
        Case c = fixtureCase("google-gemma-2-2b-it", "ko-system-multiturn");
        CliRun r = run("template", "--template", c.template().toString(), "--messages", c.messages().toString());
        assertEquals(1, r.status());
        assertEquals("", r.out());
        assertEquals("kiri template: System role not supported", r.err().strip());
    }

    @Test
    void modelTemplateWithItsVocabularysBosToken() throws Exception {
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[{\"role\": \"user\", \"content\": \"こんにちは\"}]");
        CliRun r = run("template", "-m", Fixtures.file("vocab/ggml-vocab-llama-bpe.gguf").toString(), "--messages", messages.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("<|begin_of_text|>"), r.out());
        assertTrue(r.out().contains("こんにちは"), r.out());
    }

    @Test
    void modelWithoutATemplateUsesThePlainFallback() throws Exception {
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \" hi \"}]");
        CliRun r = run("template", "-m", Fixtures.file("models/tiny-llama-Q8_0.gguf").toString(), "--messages", messages.toString(),
                "--bos-token", "<s>");
        assertEquals(0, r.status(), r.err());
        assertEquals("<s>System: Be brief.\n\nUser: hi\n\nAssistant:", r.out());
    }

    @Test
    void namedTemplatesOfAModel() throws Exception {
        Path model = dir.resolve("named.gguf");
        new GgufWriter()
                .putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, new String[] {"<unk>", "<s>", "</s>"}))
                .putUInt32("tokenizer.ggml.bos_token_id", 1)
                .putUInt32("tokenizer.ggml.eos_token_id", 2)
                .putString("tokenizer.chat_template", "{{ bos_token }}default")
                .putString("tokenizer.chat_template.tool_use", "{{ bos_token }}tools {{ tools|length }}{{ eos_token }}")
                .write(model);
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[]");
        Path tools = dir.resolve("t.json");
        Files.writeString(tools, "[{\"type\": \"function\"}]");
        assertEquals("<s>default", run("template", "-m", model.toString(), "--messages", messages.toString()).out());
        CliRun r = run("template", "-m", model.toString(), "--name", "tool_use", "--messages", messages.toString(), "--tools", tools.toString(),
                "--eos-token", "<end>");
        assertEquals(0, r.status(), r.err());
        assertEquals("<s>tools 1<end>", r.out());
        CliRun missing = run("template", "-m", model.toString(), "--name", "rag", "--messages", messages.toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("no chat template named 'rag'") && missing.err().contains("tool_use"), missing.err());
    }

    @Test
    void badInputIsNamed() throws Exception {
        Path template = dir.resolve("t.jinja");
        Files.writeString(template, "{{ messages[0].content }}");
        Path notJson = dir.resolve("bad.json");
        Files.writeString(notJson, "[{\"role\": \"user\", ");
        CliRun r = run("template", "--template", template.toString(), "--messages", notJson.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--messages " + notJson + ": not valid JSON"), r.err());

        Path notArray = dir.resolve("obj.json");
        Files.writeString(notArray, "{\"role\": \"user\"}");
        CliRun s = run("template", "--template", template.toString(), "--messages", notArray.toString());
        assertEquals(1, s.status());
        assertTrue(s.err().contains("expected a JSON array, found an object"), s.err());

        Path noRole = dir.resolve("norole.json");
        Files.writeString(noRole, "[{\"content\": \"x\"}]");
        CliRun t = run("template", "--template", template.toString(), "--messages", noRole.toString());
        assertEquals(1, t.status());
        assertTrue(t.err().contains("message 0 has no string \"role\""), t.err());

        CliRun u = run("template", "--template", dir.resolve("missing.jinja").toString(), "--messages", noRole.toString());
        assertEquals(1, u.status());
        assertTrue(u.err().contains("no such file"), u.err());

        Path good = dir.resolve("good.json");
        Files.writeString(good, "[{\"role\": \"user\", \"content\": \"x\"}]");
        CliRun v = run("template", "--template", template.toString(), "--messages", good.toString(), "--now", "yesterday");
        assertEquals(1, v.status());
        assertTrue(v.err().contains("--now yesterday"), v.err());
        assertFalse(v.err().contains("\tat "), v.err());
    }

    @Test
    void needsExactlyOneTemplateSource() throws Exception {
        Path good = dir.resolve("good.json");
        Files.writeString(good, "[]");
        assertEquals(2, run("template", "--messages", good.toString()).status());
        assertEquals(2, run("template", "-m", "a.gguf", "--template", "b.jinja", "--messages", good.toString()).status());
    }
}

package dev.kiri.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of every {@code templates/*.cases.json} fixture: real chat templates rendered by
 * Python's Jinja2 configured as Hugging Face does (clock fixed at 2026-11-22 09:30:00). Each case must
 * match byte for byte, or fail with exactly the expected raise_exception message.
 */
class ChatTemplateFixtureTest {
    static final LocalDateTime FIXTURE_CLOCK = LocalDateTime.of(2026, 11, 22, 9, 30, 0);
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> caseFiles() throws IOException {
        Path dir = Fixtures.file("templates");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".cases.json")).sorted().toList();
        }
    }

    @Test
    void everyTemplateHasCasesAndTheFolderIsNotEmpty() throws IOException {
        Path dir = Fixtures.file("templates");
        List<Path> cases = caseFiles();
        assertTrue(cases.size() >= 20, "expected the 20 template fixtures, found " + cases.size() + " in " + dir);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path t : s.filter(p -> p.getFileName().toString().endsWith(".jinja")).toList()) {
                String base = t.getFileName().toString().replaceFirst("\\.jinja$", "");
                assertTrue(Files.exists(dir.resolve(base + ".cases.json")), "no cases for " + t);
            }
        }
    }

    @TestFactory
    List<DynamicTest> everyCaseRendersLikeJinja2() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path file : caseFiles()) {
            Map<String, Object> doc = JSON.readValue(file.toFile(), new TypeReference<>() {
            });
            String templateFile = (String) doc.get("template");
            Path templatePath = file.resolveSibling(templateFile);
            String source = Files.readString(templatePath);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> cases = (List<Map<String, Object>>) doc.get("cases");
            assertFalse(cases.isEmpty(), "no cases in " + file);
            for (Map<String, Object> c : cases) {
                String caseName = (String) c.get("name");
                tests.add(dynamicTest(templateFile + " / " + caseName, () -> check(templateFile, source, c)));
            }
        }
        return tests;
    }

    @SuppressWarnings("unchecked")
    private static void check(String templateFile, String source, Map<String, Object> c) {
        Map<String, Object> ctx = (Map<String, Object>) c.get("context");
        ChatTemplate t = ChatTemplate.of(templateFile, source, (String) ctx.get("bos_token"), (String) ctx.get("eos_token"));
        List<Map<String, Object>> messages = (List<Map<String, Object>>) ctx.get("messages");
        List<Map<String, Object>> tools = (List<Map<String, Object>>) ctx.get("tools");
        boolean agp = (Boolean) ctx.get("add_generation_prompt");
        if (c.containsKey("expected_error")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> t.render(messages, tools, agp, FIXTURE_CLOCK), "expected the template to raise");
            assertEquals(c.get("expected_error"), e.getMessage());
            assertTrue(e.raisedByTemplate(), "raised by the template's raise_exception: " + e.getMessage());
        } else {
            assertEquals(c.get("expected"), t.render(messages, tools, agp, FIXTURE_CLOCK), templateFile + " / " + c.get("name"));
        }
    }
}

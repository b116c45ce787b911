package dev.kiri.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufValueType;
import dev.kiri.runtime.Message;
import org.junit.jupiter.api.Test;

/** The Jinja2 behaviours chat templates rely on, each pinned by a small template. */
class ChatTemplateTest {
    static final LocalDateTime CLOCK = LocalDateTime.of(2026, 11, 22, 9, 30, 0);

    /** Renders a template with extra variables and no messages. */
    static String render(String source, Map<String, Object> vars) {
        return ChatTemplate.of(source, "<s>", "</s>").render(List.of(), null, false, CLOCK, vars);
    }

    static String render(String source) {
        return render(source, Map.of());
    }

    private static final String CHATML = """
            {%- for message in messages %}
                {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    @Test
    void rendersMessagesWithAGenerationPrompt() {
        ChatTemplate t = ChatTemplate.of(CHATML, "", "<|im_end|>");
        String out = t.render(List.of(Message.system("あなたは親切です。"), Message.user("こんにちは")), true);
        assertEquals("<|im_start|>system\nあなたは親切です。<|im_end|>\n<|im_start|>user\nこんにちは<|im_end|>\n<|im_start|>assistant\n", out);
        assertEquals("<|im_start|>user\nhi<|im_end|>\n", t.render(List.of(Message.user("hi")), false));
    }

    @Test
    void bosAndEosTokensAreVariables() {
        assertEquals("<s>x</s>", render("{{ bos_token }}x{{ eos_token }}"));
    }

    @Test
    void notBindsLooserThanTestsAndComparisons() {
        assertEquals("no", render("{% if not add_generation_prompt is defined %}yes{% else %}no{% endif %}"));
        assertEquals("True|False|True", render("{{ not 1 == 2 }}|{{ not 'a' in 'abc' }}|{{ not false or true }}"));
    }

    @Test
    void keywordArgumentsTakeWholeExpressions() {
        assertEquals("2", render("{% set ns = namespace(last=xs|length - 1) %}{{ ns.last }}", Map.of("xs", List.of(1, 2, 3))));
    }

    @Test
    void slicesHavePythonMeaning() {
        assertEquals("[3, 2, 1]|[2, 3]|[1, 2]|{\"a\": 1|fdb|[1, 3]",
                render("{{ xs[::-1] }}|{{ xs[1:] }}|{{ xs[:-1] }}|{{ '{\"a\": 1}'[:-1] }}|{{ 'abcdef'[::-2] }}|{{ xs[::2] }}",
                        Map.of("xs", List.of(1, 2, 3))));
    }

    @Test
    void loopFiltersCountOnlyKeptItems() {
        String t = "{% for k, v in d.items() if k != 'return' %}{{ k }}={{ v }}{% if not loop.last %}, {% endif %}{% endfor %}";
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("name", "f");
        d.put("return", "x");
        assertEquals("name=f", render(t, Map.of("d", d)));
        assertEquals("1:b 2:c ", render("{% for c in 'abc' if c != 'a' %}{{ loop.index }}:{{ c }} {% endfor %}"));
    }

    @Test
    void forElseRendersTheElsePartWhenNothingWasIterated() {
        String t = "{% for x in xs %}{{ x }}{% else %}empty{% endfor %}";
        assertEquals("empty|12", render(t, Map.of("xs", List.of())) + "|" + render(t, Map.of("xs", List.of(1, 2))));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", List.of(1, 2));
        d.put("b", List.of());
        assertEquals("[none][a:1,2;b:-]", render("{%- for x in xs if x > 5 %}{{ x }}{% else %}[none]{% endfor %}\n"
                + "[{%- for k in d %}{{ k }}:{% for v in d[k] %}{{ v }}{% if not loop.last %},{% endif %}{% else %}-{% endfor %}"
                + "{% if not loop.last %};{% endif %}{% endfor -%}]", Map.of("xs", List.of(1, 2), "d", d)));
    }

    @Test
    void messageTextIsNeverRenderedAsATemplate() {
        ChatTemplate t = ChatTemplate.of(CHATML, "<s>", "");
        String content = "{{ bos_token }} {% if true %}x{% endif %} {# c #}";
        assertEquals("<|im_start|>user\n" + content + "<|im_end|>\n", t.render(List.of(Message.user(content)), false));
    }

    @Test
    void indentIsJinja2s() {
        assertEquals("a\n\n  b\n|  a\n\n  b\n|> a\n> \n> b\n> |x", render(
                "{{ s|indent(2) }}|{{ s|indent(2, true) }}|{{ s|indent('> ', first=true, blank=true) }}|{{ 'x'|indent }}", Map.of("s", "a\n\nb\n")));
    }

    @Test
    void loopPrevitemAndNextitem() {
        assertEquals("[-a-b][a-b-c][b-c-]|1<2 ", render("{% for c in 'abc' %}[{{ loop.previtem }}-{{ c }}-{{ loop.nextitem }}]{% endfor %}|"
                + "{% for x in xs if x > 0 %}{% if loop.previtem is defined %}{{ loop.previtem }}<{{ x }} {% endif %}{% endfor %}",
                Map.of("xs", List.of(1, -5, 2))));
    }

    @Test
    void plusIsPythons() {
        assertEquals("ab|[1, 2]|3|2.5", render("{{ 'a' + 'b' }}|{{ [1] + [2] }}|{{ 1 + 2 }}|{{ 1 + 1.5 }}"));
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render("{{ 'a' + d }}", Map.of("d", Map.of("k", 1))));
        assertTrue(e.getMessage().contains("can only concatenate str (not \"dict\") to str"), e.getMessage());
        assertThrows(ChatTemplateException.class, () -> render("{{ 'a' + none }}"));
        assertThrows(ChatTemplateException.class, () -> render("{{ 'a' + undefined_name }}"));
        assertThrows(ChatTemplateException.class, () -> render("{{ 'a' + 1 }}"));
    }

    @Test
    void stringsIterateAndIndexByCharacter() {
        assertEquals("日-本-語|語|2", render("{% for c in s %}{{ c }}{% if not loop.last %}-{% endif %}{% endfor %}|{{ s[-1] }}|{{ e|length }}",
                Map.of("s", "日本語", "e", "😀a")));
    }

    @Test
    void pythonStringMethods() {
        assertEquals("[全角]|['a', 'b']|['a', 'b c']|True|Hello World|a-b|3|x",
                render("[{{ '\u3000全角 \\n'.strip() }}]|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|"
                        + "{{ 'abc'.endswith(('x', 'c')) }}|{{ 'hello wORLD'.title() }}|{{ 'a b'.replace(' ', '-') }}|"
                        + "{{ 'banana'.count('a') }}|{{ 'xax'.lstrip('x').rstrip('x').replace('a', 'x') }}"));
        assertEquals("[全角]", render("[{{ '\u3000全角\u3000'|trim }}]"));
    }

    @Test
    void dictMethods() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("a", 1);
        d.put("b", null);
        assertEquals("a=1;b=None;|1|def|None|['a', 'b']",
                render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.get('a') }}|{{ d.get('z', 'def') }}|{{ d.get('z') }}|{{ d.keys()|list }}",
                        Map.of("d", d)));
    }

    @Test
    void valuesPrintAsPythonDoes() {
        Map<String, Object> vars = new HashMap<>();
        vars.put("n", null);
        vars.put("m", Map.of("k", List.of(true, 1.5)));
        assertEquals("True|False|None|None|{'k': [True, 1.5]}|[]|aTrue1",
                render("{{ true }}|{{ false }}|{{ n }}|{{ none }}|{{ m }}|[{{ undefined_name }}]|{{ 'a' ~ true ~ 1 }}", vars));
    }

    @Test
    void noneIsDefinedButUndefinedIsNotNone() {
        Map<String, Object> msg = new HashMap<>();
        msg.put("content", null);
        assertEquals("True|True|False|False|None",
                render("{{ m.content is defined }}|{{ m.content is none }}|{{ m.missing is defined }}|{{ m.missing is none }}|{{ m.content|default('d') }}",
                        Map.of("m", msg)));
    }

    @Test
    void truthinessIsPythons() {
        assertEquals("yes|b|0|[]", render("{% if s %}yes{% endif %}|{{ 'a' and 'b' }}|{{ 0 and 1 }}|{{ none or [] }}", Map.of("s", "false")));
    }

    @Test
    void operatorsOnStringsAndLists() {
        assertEquals("===>|[1, 2, 1, 2]|Hello 世界, 3 items, 1.50", render("{{ '=' * 3 + '>' }}|{{ [1, 2] * 2 }}|{{ 'Hello %s, %d items, %.2f' % (w, 3, 1.5) }}",
                Map.of("w", "世界")));
    }

    @Test
    void stringLiteralsUsePythonEscapes() {
        assertEquals("あ|a\nb|\\d|it's", render("{{ '\\u3042' }}|{{ 'a\\nb' }}|{{ '\\d' }}|{{ 'it\\'s' }}"));
    }

    @Test
    void safeStringPlusTextEscapesTheText() {
        assertEquals("say &#34;hi&#34; &amp; &lt;go&gt;", render("{{ 'say '|safe + x }}", Map.of("x", "\"hi\" & <go>")));
        assertEquals("plain \"hi\"", render("{{ 'plain ' + x }}", Map.of("x", "\"hi\"")));
    }

    @Test
    void tojsonIsPythonsJsonDumpsKeepingNonAscii() {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("name", "天気");
        x.put("n", List.of(1, 2.5, 1e20, 1e-5, true));
        x.put("none", null);
        x.put("ctl", "a\tb\u0001\"");
        x.put("empty", Map.of());
        assertEquals("{\"name\": \"天気\", \"n\": [1, 2.5, 1e+20, 1e-05, true], \"none\": null, \"ctl\": \"a\\tb\\u0001\\\"\", \"empty\": {}}",
                render("{{ x|tojson }}", Map.of("x", x)));
        assertEquals("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}", render("{{ {'a': [1, 2], 'b': []}|tojson(indent=2) }}"));
        assertEquals("[\"<b>\"]", render("{{ ['<b>'|safe]|tojson }}"));
        assertEquals("{\"a\":1,\"b\":\"\\u5929\"}", render("{{ {'b': '天', 'a': 1}|tojson(separators=(',', ':'), sort_keys=true, ensure_ascii=true) }}"));
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        assertEquals("22 Nov 2026|Sunday, November 22|09:30:00|2026-11-22|9 AM", render(
                "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%A, %B %-d') }}|{{ strftime_now('%H:%M:%S') }}|{{ strftime_now('%Y-%m-%d') }}|{{ strftime_now('%-I %p') }}"));
        assertEquals("yes", render("{% if strftime_now is defined %}yes{% endif %}"));
    }

    @Test
    void namespacesLoopControlsAndMacros() {
        assertEquals("32|0 1 3 4 |<1x><2y>", render("""
                {%- set ns = namespace(a=1) -%}
                {%- for i in [1, 2] %}{% set ns.a = ns.a + 1 %}{% endfor -%}
                {{ ns.a }}{{ 2 }}|
                {%- for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }} {% endfor -%}
                |{% macro m(a, b='x') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(2, b='y') }}"""));
    }

    @Test
    void whitespaceControlTrimAndLstripBlocks() {
        assertEquals("a\nb\nc", render("{% for x in ['a', 'b'] %}\n    {{ x }}\n{% endfor %}\nc\n").replaceAll("(?m)^ +", ""));
        assertEquals("[x]", render("[  {%- if true -%}  x  {%- endif -%}  ]"));
        assertEquals("x y|a b |a\nb", render("x {% if true %}y{% endif %}|{% for c in 'ab' %}{{ c }} {% endfor %}|a\n  {% if true %}b{% endif %}"),
                "lstrip_blocks strips only from the start of a line");
        assertEquals("a b|a\n  x", render("a {# c #}b|a\n  {%+ if true %}x{% endif %}"));
        assertEquals("  x\n", render("  {{ 'x' }}\n\n"), "one trailing newline of the source is dropped, as Jinja2 does");
        assertEquals("a\nb", render("a\r\nb"));
    }

    @Test
    void raiseExceptionStopsTheRenderWithTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.of("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}ok", "", "");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(List.of(Message.system("x")), true));
        assertEquals("System role not supported", e.getMessage());
        assertTrue(e.raisedByTemplate());
        assertEquals("ok", t.render(List.of(Message.user("x")), true));
    }

    @Test
    void syntaxErrorsFailWhenTheTemplateIsMade() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("my.jinja", "{% if x %}never closed", "", ""));
        assertTrue(e.getMessage().startsWith("chat template my.jinja: "), e.getMessage());
        assertFalse(e.raisedByTemplate());
        ChatTemplateException g = assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("t.jinja", "a\n{% if x %}{{ 1 + }}{% endif %}", "", ""));
        assertTrue(g.getMessage().startsWith("chat template t.jinja: line 2: syntax error in '1 +'"), g.getMessage());
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("{% if (x %}y{% endif %}", "", ""));
        // names and functions are looked up only when evaluated, as in Jinja2
        assertEquals("ok", render("{% if false %}{{ no_such_function(1) }}{% endif %}ok"));
    }

    @Test
    void unknownFiltersAndFunctionsAreErrors() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render("{{ 'x'|no_such_filter }}"));
        assertTrue(e.getMessage().contains("no_such_filter"), e.getMessage());
        ChatTemplateException f = assertThrows(ChatTemplateException.class, () -> render("{{ no_such_function(1) }}"));
        assertTrue(f.getMessage().contains("no_such_function"), f.getMessage());
        ChatTemplateException t = assertThrows(ChatTemplateException.class, () -> render("{{ 1 is no_such_test }}"));
        assertTrue(t.getMessage().contains("no_such_test"), t.getMessage());
        ChatTemplateException m = assertThrows(ChatTemplateException.class, () -> render("{{ 'x'.no_such_method() }}"));
        assertTrue(m.getMessage().contains("no_such_method"), m.getMessage());
    }

    @Test
    void runawayTemplatesFailInsteadOfExhaustingMemory() {
        assertThrows(ChatTemplateException.class, () -> render("{{ 'x' * 100000000 }}"));
        assertThrows(ChatTemplateException.class, () -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"));
    }

    @Test
    void callersDataIsNotChanged() {
        List<Map<String, Object>> messages = new ArrayList<>();
        messages.add(new HashMap<>(Map.of("role", "user", "content", "hi")));
        ChatTemplate t = ChatTemplate.of("{% set _ = messages.append({'role': 'x'}) %}{{ messages|length }}", "", "");
        assertEquals("2", t.render(messages, null, false, CLOCK));
        assertEquals(1, messages.size());
    }

    @Test
    void toolsAreUndefinedWhenNotGiven() {
        ChatTemplate t = ChatTemplate.of("{% if tools is defined %}{{ tools|length }} tools{% else %}none{% endif %}", "", "");
        assertEquals("none", t.render(List.of(), null, false, CLOCK));
        assertEquals("1 tools", t.render(List.of(), List.of(Map.of("type", "function")), false, CLOCK));
    }

    private static GgufMetadata metadata(Map<String, GgufValue> extra) {
        Map<String, GgufValue> values = new LinkedHashMap<>();
        values.put("tokenizer.ggml.tokens", GgufValue.ofArray(new GgufArray(GgufValueType.STRING, new String[] {"<unk>", "<s>", "</s>"})));
        values.put("tokenizer.ggml.bos_token_id", GgufValue.ofUInt32(1));
        values.put("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(2));
        values.putAll(extra);
        return new GgufMetadata("test.gguf", values);
    }

    @Test
    void fromGgufTakesTheTemplateAndTheVocabularysBosAndEos() {
        GgufMetadata md = metadata(Map.of(
                "tokenizer.chat_template", GgufValue.ofString("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"),
                "tokenizer.chat_template.tool_use", GgufValue.ofString("tools!")));
        ChatTemplate t = ChatTemplate.fromGguf(md, null);
        assertEquals("<s>hi</s>", t.render(List.of(Message.user("hi")), true));
        assertEquals("<s>", t.bosToken());
        assertFalse(t.isFallback());
        assertEquals("tools!", ChatTemplate.fromGguf(md, "tool_use").render(List.of(), false));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromGguf(md, "rag"));
        assertTrue(e.getMessage().contains("tokenizer.chat_template.rag") && e.getMessage().contains("tool_use"), e.getMessage());
    }

    @Test
    void aTokenIdOutsideTheVocabularyIsNamed() {
        GgufMetadata md = metadata(Map.of("tokenizer.ggml.eos_token_id", GgufValue.ofUInt32(99)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromGguf(md, null));
        assertTrue(e.getMessage().contains("tokenizer.ggml.eos_token_id = 99"), e.getMessage());
    }

    @Test
    void aModelWithoutATemplateGetsThePlainFallback() {
        ChatTemplate t = ChatTemplate.fromGguf(metadata(Map.of()), null);
        assertTrue(t.isFallback());
        assertEquals("<s>System: 簡潔に。\n\nUser: こんにちは\n\nAssistant: やあ\n\nUser: 元気？\n\nAssistant:",
                t.render(List.of(Message.system("簡潔に。"), Message.user("  こんにちは\n"), Message.assistant("やあ"), Message.user("元気？")), true));
        assertEquals("<s>User: x\n\n", t.render(List.of(Message.user("x")), false));
    }

    @Test
    void fixtureVocabularyTemplatesRender() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.file("vocab/ggml-vocab-qwen2.gguf"))) {
            ChatTemplate t = ChatTemplate.fromGguf(f.metadata(), null);
            assertFalse(t.isFallback());
            String out = t.render(List.of(Message.user("東京は？")), true);
            assertTrue(out.contains("<|im_start|>user\n東京は？<|im_end|>\n<|im_start|>assistant\n"), out);
        }
    }

    @Test
    void rendersFromSeveralThreadsAtOnce() throws Exception {
        ChatTemplate t = ChatTemplate.of(CHATML, "", "");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                String text = "message " + i;
                results.add(pool.submit(() -> t.render(List.of(Message.user(text)), true)
                        .equals("<|im_start|>user\n" + text + "<|im_end|>\n<|im_start|>assistant\n")));
            }
            for (Future<Boolean> f : results) assertTrue(f.get());
        } finally {
            pool.shutdownNow();
        }
    }
}

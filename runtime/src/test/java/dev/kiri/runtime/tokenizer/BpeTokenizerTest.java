package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.kiri.gguf.Fixtures;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufMetadata;
import dev.kiri.gguf.GgufValue;
import org.junit.jupiter.api.Test;

class BpeTokenizerTest {

    @Test
    void llamaBpeAddsBosByDefaultAndEndsOnItsEndTokens() {
        Tokenizer t = VocabFixtures.vocab("llama-bpe");
        int[] ids = t.encode("Hello", true, false);
        assertEquals(128000, ids[0], "llama-bpe adds BOS although the file has no add_bos_token");
        assertEquals(2, ids.length, "no EOS");
        for (int id : new int[] {128009, 128001}) assertTrue(t.isEndOfGeneration(id), "id " + id);
        assertFalse(t.isEndOfGeneration(128000));
        assertTrue(t.cleansSpaces());
        assertFalse(t.stripsLeadingSpace());
    }

    @Test
    void qwenUserDefinedTokensAreMatchedWithoutSpecialParsingControlTokensOnlyWith() {
        Tokenizer t = VocabFixtures.vocab("qwen2");
        int[] ids = t.encode("a<think>b</think>", false, false);
        assertTrue(Arrays.stream(ids).anyMatch(id -> id == 151667) && Arrays.stream(ids).anyMatch(id -> id == 151668),
                Arrays.toString(ids));
        int[] plain = t.encode("<|im_start|>user", false, false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == 151644), Arrays.toString(plain));
        int[] parsed = t.encode("<|im_start|>user", false, true);
        assertEquals(151644, parsed[0]);
        assertArrayEquals(t.encode("user", false, false), Arrays.copyOfRange(parsed, 1, parsed.length));
        assertEquals("<|im_start|>user", t.decode(plain, false));
        assertEquals("user", t.decode(parsed, false), "control tokens print nothing without special");
        assertEquals("<|im_start|>user", t.decode(parsed, true));
        // no BOS for Qwen (add_bos_token false)
        assertArrayEquals(t.encode("x", false, false), t.encode("x", true, false));
        for (int id : new int[] {151643, 151645, 151662, 151663, 151664}) assertTrue(t.isEndOfGeneration(id), "id " + id);
    }

    @Test
    void unusedPaddingTokensDecodeToNothing() {
        Tokenizer t = VocabFixtures.vocab("qwen2");
        assertEquals("[PAD151935]", t.piece(151935));
        assertArrayEquals(new byte[0], t.tokenBytes(151935, true));
    }

    @Test
    void anEmojiSplitOverTokensIsStreamedWhole() {
        Tokenizer t = VocabFixtures.vocab("gpt-2");
        String s = "I 😶‍🌫️ you 🦙!";
        int[] ids = t.encode(s, false, false);
        StreamingDecoder d = StreamingDecoder.forText(t, false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String part = d.accept(id);
            assertFalse(part.contains("\uFFFD"), "after id " + id);
            sb.append(part);
        }
        assertEquals(s, sb.append(d.flush()).toString());
    }

    @Test
    void cleanSpacesApplyWhenStreaming() {
        Tokenizer t = VocabFixtures.vocab("gpt-2");
        String s = "Is it you ? I 'm here , they 're late . Done !";
        int[] ids = t.encode(s, false, false);
        String whole = t.decode(ids, false);
        assertEquals("Is it you? I'm here, they're late. Done!", whole);
        StreamingDecoder d = StreamingDecoder.continuing(t, false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.accept(id));
        assertEquals(whole, sb.append(d.flush()).toString());
    }

    @Test
    void unknownPreTokenizerIsNamed() throws IOException {
        Map<String, GgufValue> m;
        try (GgufFile f = GgufFile.open(Fixtures.file("vocab/ggml-vocab-gpt-2.gguf"))) {
            m = new LinkedHashMap<>(f.metadata().asMap());
        }
        m.put("tokenizer.ggml.pre", GgufValue.ofString("no-such-pre"));
        var e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(new GgufMetadata("x.gguf", m), "x.gguf"));
        assertTrue(e.getMessage().contains("x.gguf") && e.getMessage().contains("no-such-pre"), e.getMessage());

        m.put("tokenizer.ggml.pre", GgufValue.ofString("gpt-2"));
        m.remove("tokenizer.ggml.merges");
        e = assertThrows(IllegalArgumentException.class, () -> Tokenizers.load(new GgufMetadata("x.gguf", m), "x.gguf"));
        assertTrue(e.getMessage().contains("tokenizer.ggml.merges is missing"), e.getMessage());
    }

    @Test
    void tokenizersAreSafeToShareBetweenThreads() throws Exception {
        String text = SpmTokenizerTest.japanese(20_000, 5) + " Hello, world! 한국어 <think>x</think>";
        for (Tokenizer t : new Tokenizer[] {VocabFixtures.vocab("qwen2"), VocabFixtures.vocab("llama-spm")}) {
            int[] expected = t.encode(text, true, false);
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                var futures = new java.util.ArrayList<java.util.concurrent.Future<int[]>>();
                for (int i = 0; i < 16; i++) futures.add(pool.submit(() -> t.encode(text, true, false)));
                for (var f : futures) assertArrayEquals(expected, f.get());
            }
        }
    }
}

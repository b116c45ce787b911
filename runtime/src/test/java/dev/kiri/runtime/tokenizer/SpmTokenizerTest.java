package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

class SpmTokenizerTest {

    @Test
    void mergesByScoreAndFallsBackToBytes() {
        Tokenizer t = Tokenizers.load(VocabularyTest.md(VocabularyTest.spm()), "test.gguf");
        // "ab" -> "▁ab": the highest-scoring merges win; 'あ' (E3 81 82) has no piece: three byte tokens
        assertArrayEquals(new int[] {12}, t.encode("ab", false, false));
        assertArrayEquals(new int[] {1, 12, 7, 4, 5, 6}, t.encode("ab あ", true, false));
        assertEquals("ab あ", t.decode(t.encode("ab あ", false, false), false));
        // as llama_detokenize (remove_special = false): only the first piece loses its leading
        // space, and with BOS in front that piece is BOS
        assertEquals(" ab あ", t.decode(t.encode("ab あ", true, false), false));
        assertEquals("<s> ab あ", t.decode(t.encode("ab あ", true, false), true));
    }

    @Test
    void byteWithoutAByteTokenBecomesTheUnknownToken() {
        Tokenizer t = Tokenizers.load(VocabularyTest.md(VocabularyTest.spm()), "test.gguf");
        // 'c' has neither a piece nor a <0x63> token
        assertArrayEquals(new int[] {10, 0}, t.encode("ac", false, false));
        assertEquals("a", t.decode(new int[] {10, 0}, false));
        assertEquals("a<unk>", t.decode(new int[] {10, 0}, true));
    }

    @Test
    void addSpecialAddsBosOnly() {
        Tokenizer t = VocabFixtures.vocab("llama-spm");
        int[] ids = t.encode("Hello world", true, false);
        assertEquals(1, ids[0]);
        assertArrayEquals(t.encode("Hello world", false, false), java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertEquals(1, t.bos());
    }

    @Test
    void controlTokensInTextAreParsedOnlyWhenAsked() {
        Tokenizer t = VocabFixtures.vocab("llama-spm");
        int[] parsed = t.encode("<s>Hi</s>", false, true);
        assertEquals(1, parsed[0]);
        assertEquals(2, parsed[parsed.length - 1]);
        // after a special token the text gets the space prefix again, as at the start
        assertArrayEquals(t.encode("Hi", false, false), java.util.Arrays.copyOfRange(parsed, 1, parsed.length - 1));
        int[] plain = t.encode("<s>Hi</s>", false, false);
        for (int id : plain) assertTrue(id != 1 && id != 2, "no control token without parseSpecial");
        assertEquals("<s>Hi</s>", t.decode(plain, false));
    }

    @Test
    void userDefinedTokensAreAlwaysMatchedAndPhi3StripsSpacesAfterThem() {
        Tokenizer t = VocabFixtures.vocab("phi-3");
        // </s> is user-defined in this vocabulary; phi-3 strips whitespace to its right
        int[] a = t.encode("Hi</s>   there", false, false);
        int[] b = t.encode("Hi</s>there", false, false);
        assertArrayEquals(b, a);
        assertTrue(java.util.Arrays.stream(a).anyMatch(id -> id == 2), "</s> matched without parseSpecial");
        assertTrue(t.isEndOfGeneration(32000) && t.isEndOfGeneration(32007), "<|endoftext|> and <|end|> end generation");
    }

    @Test
    void aPieceWithAnInnerSpaceMergesAcrossWords() {
        String[] tokens = {"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "b▁a"};
        float[] scores = {0, 0, 0, -5, -5, -5, -2, -1};
        int[] types = {2, 3, 3, 1, 1, 1, 1, 1};
        var m = new java.util.LinkedHashMap<String, dev.kiri.gguf.GgufValue>();
        m.put("tokenizer.ggml.model", dev.kiri.gguf.GgufValue.ofString("llama"));
        m.put("tokenizer.ggml.tokens", dev.kiri.gguf.GgufValue.ofArray(new dev.kiri.gguf.GgufArray(dev.kiri.gguf.GgufValueType.STRING, tokens)));
        m.put("tokenizer.ggml.scores", dev.kiri.gguf.GgufValue.ofArray(new dev.kiri.gguf.GgufArray(dev.kiri.gguf.GgufValueType.FLOAT32, scores)));
        m.put("tokenizer.ggml.token_type", dev.kiri.gguf.GgufValue.ofArray(new dev.kiri.gguf.GgufArray(dev.kiri.gguf.GgufValueType.INT32, types)));
        Tokenizer t = Tokenizers.load(VocabularyTest.md(m), "test.gguf");
        // "▁b▁a": "▁a" merges first, then "b" + "▁a" = "b▁a", a piece that spans two words
        assertArrayEquals(new int[] {3, 7}, t.encode("b a", false, false));
        assertEquals("b a", t.decode(new int[] {3, 7}, false));
    }

    @Test
    void longerSpecialTokensAreMatchedFirst() {
        var m = VocabularyTest.spm("<x>", "<x><y>", "<y>");
        int[] types = (int[]) ((dev.kiri.gguf.GgufArray) m.get("tokenizer.ggml.token_type").value()).values();
        types[13] = types[14] = types[15] = 4; // user-defined: matched without parseSpecial
        Tokenizer t = Tokenizers.load(VocabularyTest.md(m), "test.gguf");
        // "<x><y>" wins over "<x>" where both match; the text between special tokens gets the space prefix
        assertArrayEquals(new int[] {14, 13, 12, 15}, t.encode("<x><y><x>ab<y>", false, false));
    }

    @Test
    void loneSurrogatesBecomeReplacementCharactersAndNulIsText() {
        Tokenizer t = VocabFixtures.tiny();
        assertArrayEquals(t.encode("a\uFFFDb\uFFFD", false, false), t.encode("a\uD800b\uDC00", false, false));
        int[] nul = t.encode("x\0y", false, false);
        assertEquals("x\0y", t.decode(nul, false));
        assertEquals("", t.decode(t.encode("", true, false), false));
        assertArrayEquals(new int[0], t.encode("", false, false));
    }

    @Test
    void pieceAndTokenBytesFollowTheTokenType() {
        Tokenizer t = VocabFixtures.vocab("llama-spm");
        assertEquals("<s>", t.piece(1));
        assertArrayEquals(new byte[0], t.tokenBytes(1, false));
        assertArrayEquals("<s>".getBytes(StandardCharsets.UTF_8), t.tokenBytes(1, true));
        int hello = t.encode("Hello", false, false)[0];
        assertEquals("▁Hello", t.piece(hello));
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), t.tokenBytes(hello, false));
        int nl = t.encode("\n", false, false)[1];
        assertEquals("<0x0A>", t.piece(nl));
        assertArrayEquals(new byte[] {'\n'}, t.tokenBytes(nl, false));
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> t.tokenBytes(32000, true));
        assertTrue(e.getMessage().contains("32000"), e.getMessage());
    }

    /**
     * 1 MB of Japanese without a space must take about linear time: ten times the input may take
     * at most thirty times as long (a quadratic merge loop would take a hundred times). Times are
     * the test thread's CPU time, best of three, so that a busy machine does not decide the ratio.
     */
    @Test
    void longJapaneseWithoutSpacesTokenizesInNearLinearTime() {
        Tokenizer t = VocabFixtures.vocab("llama-spm");
        String small = japanese(100_000, 1);
        String large = japanese(1_000_000, 2);
        t.encode(small, false, false); // warm up
        t.encode(small, false, false);
        long ts = best(() -> t.encode(small, false, false), 3);
        long tl = best(() -> t.encode(large, false, false), 3);
        System.out.printf("SentencePiece, Japanese without spaces: 1 MB %.1f ms, 100 KB %.1f ms of CPU (ratio %.1f)%n",
                tl / 1e6, ts / 1e6, (double) tl / ts);
        assertTrue(tl < 30 * ts, "1 MB took " + tl / 1_000_000 + " ms of CPU, 100 KB took " + ts / 1_000_000 + " ms");
        int[] ids = t.encode(large, false, false);
        assertEquals(large, t.decode(ids, false), "round trip of 1 MB");
    }

    /** About {@code bytes} of UTF-8: random kana and kanji in runs, no spaces. */
    static String japanese(int bytes, long seed) {
        String words = "日本語のテキストを正しくトークン化できますか東京都庁舎は新宿区にありますひらがなカタカナ漢字";
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() * 3 < bytes) {
            int from = r.nextInt(words.length() - 4);
            sb.append(words, from, from + 1 + r.nextInt(4));
            if (r.nextInt(8) == 0) sb.append((char) (0x4E00 + r.nextInt(0x2000)));
        }
        return sb.toString();
    }

    private static long best(Runnable r, int times) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < times; i++) {
            long t0 = mx.getCurrentThreadCpuTime();
            r.run();
            best = Math.min(best, mx.getCurrentThreadCpuTime() - t0);
        }
        return best;
    }
}

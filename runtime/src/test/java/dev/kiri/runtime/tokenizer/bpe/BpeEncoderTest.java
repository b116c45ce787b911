package dev.kiri.runtime.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BpeEncoderTest {
    private static final String[] TOKENS = {"a", "b", "c", "ab", "bc", "abc", "aa", "Ġ", "Ġa", "x", "y", "zz"};

    @Test
    void mergesByRankNotByPosition() {
        // "b c" outranks "a b": abc -> a + bc, and no merge "a bc" exists
        BpeEncoder e = new BpeEncoder(TOKENS, new String[] {"b c", "a b", "ab c"}, false);
        assertArrayEquals(new int[] {0, 4}, e.encode("abc"));
        // with "a b" first, ab then abc
        BpeEncoder f = new BpeEncoder(TOKENS, new String[] {"a b", "b c", "ab c"}, false);
        assertArrayEquals(new int[] {5}, f.encode("abc"));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        BpeEncoder e = new BpeEncoder(TOKENS, new String[] {"a a"}, false);
        assertArrayEquals(new int[] {6, 0}, e.encode("aaa"));
        assertArrayEquals(new int[] {6, 6}, e.encode("aaaa"));
        assertArrayEquals(new int[] {6, 6, 0}, e.encode("aaaaa"));
    }

    @Test
    void bytesAreByteLevelCharacters() {
        BpeEncoder e = new BpeEncoder(TOKENS, new String[] {"Ġ a"}, false);
        assertArrayEquals(new int[] {8, 1}, e.encode(" ab"));
    }

    @Test
    void ignoreMergesEmitsAWholeWordThatIsAToken() {
        // no merges at all: only ignoreMerges can produce "abc"
        assertArrayEquals(new int[] {0, 1, 2}, new BpeEncoder(TOKENS, new String[0], false).encode("abc"));
        assertArrayEquals(new int[] {5}, new BpeEncoder(TOKENS, new String[0], true).encode("abc"));
        assertArrayEquals(new int[] {0, 2}, new BpeEncoder(TOKENS, new String[0], true).encode("ac"));
    }

    @Test
    void bytesWithoutATokenAreDroppedAsLlamaCppDoes() {
        BpeEncoder e = new BpeEncoder(TOKENS, new String[0], false);
        // 'q' and the two bytes of 'é' have no token
        assertArrayEquals(new int[] {0, 1}, e.encode("aqéb"));
    }

    @Test
    void aMergeWhoseResultIsNotATokenFallsBackToItsAsciiCharacters() {
        // "x y" merges to "xy", which the vocabulary lacks; "z z" gives the token "zz" but "z" alone is missing
        BpeEncoder e = new BpeEncoder(TOKENS, new String[] {"x y", "z z"}, false);
        assertArrayEquals(new int[] {9, 10}, e.encode("xy"));
        assertArrayEquals(new int[] {11}, e.encode("zz"));
        assertArrayEquals(new int[] {}, e.encode("z"));
    }

    @Test
    void loneSurrogatesAreEncodedAsReplacementCharacter() {
        assertArrayEquals(new byte[] {(byte) 0xEF, (byte) 0xBF, (byte) 0xBD, 'a'}, BpeEncoder.utf8("\uD800a"));
        assertArrayEquals(new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x81}, BpeEncoder.utf8("😁"));
    }

    @Test
    void malformedMergeIsAClearError() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> new BpeEncoder(TOKENS, new String[] {"a b", "abc"}, false));
        assertTrue(ex.getMessage().contains("tokenizer.ggml.merges[1]"), ex.getMessage());
    }

    @Test
    void longWordIsNotQuadratic() {
        // 1 MB of one byte with a merge for every power-of-two run: n log n work
        String[] tokens = new String[21];
        String[] merges = new String[20];
        String t = "a";
        for (int i = 0; i < 21; i++) {
            tokens[i] = t;
            if (i < 20) merges[i] = t + " " + t;
            t = t + t;
        }
        BpeEncoder e = new BpeEncoder(tokens, merges, false);
        long start = System.nanoTime();
        int[] ids = e.encode("a".repeat(1 << 20));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertArrayEquals(new int[] {20}, ids);
        assertTrue(ms < 20_000, "1 MB word took " + ms + " ms");
    }

    @Test
    void shortWordScanAgreesWithTheQueueOnRealVocabularies() {
        java.util.Random r = new java.util.Random(3);
        String alphabet = "etaoinshrdlucmfwypvbgkqjxzETAOIN0123456789 '.,!-_\n\tàéü日本語한국어ああ😀";
        for (String name : java.util.List.of("gpt-2", "llama-bpe", "qwen2")) {
            BpeEncoder e = VocabFixture.load(name).encoder;
            for (int t = 0; t < 3000; t++) {
                StringBuilder b = new StringBuilder();
                int len = 1 + r.nextInt(12);
                for (int i = 0; i < len; i++) b.appendCodePoint(alphabet.codePointAt(
                        alphabet.offsetByCodePoints(0, r.nextInt(alphabet.codePointCount(0, alphabet.length())))));
                String w = b.toString();
                assertArrayEquals(e.encodeWithQueue(w), e.encode(w), name + " " + w);
            }
        }
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        VocabFixture v = VocabFixture.load("qwen2");
        String[] texts = {"Hello world, it's 2025!", "吾輩は猫である。名前はまだ無い。", "대한민국의 수도는 서울입니다.",
                "x".repeat(5000) + " " + "日本".repeat(3000), "\t\n  emoji 😀👍🏽 ok"};
        int[][] expected = new int[texts.length][];
        for (int i = 0; i < texts.length; i++) expected[i] = v.encode(texts[i]);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                futures.add(pool.submit(() -> {
                    for (int round = 0; round < 10; round++) {
                        for (int i = 0; i < texts.length; i++) assertArrayEquals(expected[i], v.encode(texts[i]));
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : futures) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSinkMayEncodeFromInsideEncode() {
        BpeEncoder e = new BpeEncoder(TOKENS, new String[] {"a b", "ab c"}, false);
        java.util.List<Integer> outer = new java.util.ArrayList<>();
        e.encode("abcab", id -> {
            outer.add(id);
            assertArrayEquals(new int[] {5}, e.encode("abc")); // reuses no scratch of the outer call
        });
        assertTrue(outer.equals(java.util.List.of(5, 3)), outer.toString());
    }
}

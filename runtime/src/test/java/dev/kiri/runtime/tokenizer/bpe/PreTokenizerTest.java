package dev.kiri.runtime.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The pre-tokenizers that have no vocabulary fixture, checked against llama.cpp's definitions,
 * and properties every pre-tokenizer must have.
 */
class PreTokenizerTest {

    private static List<String> split(String pre, String text) {
        return PreTokenizer.forName(pre).split(text);
    }

    @Test
    void unknownNameIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreTokenizer.forName("no-such-pre"));
        assertTrue(e.getMessage().contains("'no-such-pre'"), e.getMessage());
        assertTrue(e.getMessage().contains("llama-bpe") && e.getMessage().contains("qwen2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BpeSpec.forPre("nope"));
        assertThrows(IllegalArgumentException.class, () -> BpeSpec.forPre(null));
    }

    @Test
    void gpt2() {
        assertEquals(List.of("Hello", " world", "'s", " ", " end", "\n"), split("gpt-2", "Hello world's  end\n"));
        // contractions are lower-case only in GPT-2
        assertEquals(List.of("I", "'", "M"), split("gpt-2", "I'M"));
        assertEquals(List.of("abc", "123", " 45", "!!", " ?"), split("gpt-2", "abc123 45!! ?"));
    }

    @Test
    void llama3() {
        assertEquals(List.of("I", "'M", " fine"), split("llama-bpe", "I'M fine"));
        assertEquals(List.of("123", "45", " ", "6"), split("llama-bpe", "12345 6"));
        assertEquals(List.of("\tword", "  \n", " ", " x"), split("llama-bpe", "\tword  \n  x"));
        assertEquals(List.of("!!!\n\n", "ok"), split("llama-bpe", "!!!\n\nok"));
    }

    @Test
    void gpt4oSplitsCaseRunsAndSeesNonAsciiLettersAsBothCases() {
        assertEquals(List.of("HELLOworld", " 日本", "HELLO", " camel", "Case'S", " ", "123", "4"),
                split("llama4", "HELLOworld 日本HELLO camelCase'S 1234"));
        assertEquals(List.of("HELLOworld", " 日本", "HELLO", " camel", "Case", "'S", " ", "1", "2"),
                split("tekken", "HELLOworld 日本HELLO camelCase'S 12"));
        assertEquals(List.of("a", "/\n/", "b"), split("gpt-4o", "a/\n/b"));
    }

    @Test
    void bloomFamilyKeepsEverythingButWhitespaceAndSomePunctuation() {
        // the text between two matches is one piece
        assertEquals(List.of("a1$b", " c", "! (", "x", ")", " 日本語", "。", "x"), split("bloom", "a1$b c! (x) 日本語。x"));
        assertEquals(List.of("a", "1", "$b", " c", "!"), split("viking", "a1$b c!"));
    }

    @Test
    void seedCoderAndBailingmoe() {
        // seed-coder: punctuation does not take the newlines after it
        assertEquals(List.of("x", ";", "\n\n", "it", "'S", " ", "1", "2"), split("seed-coder", "x;\n\nit'S 12"));
        assertEquals(List.of("x", ";\n\n", "it", "'S", " ", "1", "2"), split("bailingmoe", "x;\n\nit'S 12"));
        assertEquals(List.of("a", "\n\n", "b"), split("bailingmoe", "a\n\nb"));
        assertEquals(List.of("a", "  \n \n", " ", " b"), split("bailingmoe", "a  \n \n  b"));
        assertEquals(List.of("a", "\n\n", "b"), split("qwen2", "a\n\nb"));
    }

    @Test
    void qwen2SplitsEveryDigit() {
        assertEquals(List.of("2", "0", "2", "5", "年"), split("qwen2", "2025年"));
    }

    @Test
    void exaoneAndStarcoderFamilySplitEveryDigitThenGpt2() {
        for (String pre : List.of("exaone", "starcoder", "refact", "command-r", "smollm", "codeshell")) {
            assertEquals(List.of("abc", " ", "1", "2", "3", "4", "5"), split(pre, "abc 12345"), pre);
            assertEquals(List.of("x", "1", "y", " z"), split(pre, "x1y z"), pre);
        }
    }

    @Test
    void gpt2Family() {
        for (String pre : List.of("exaone4", "a.x-4.0", "trillion", "gpt-neox", "mpt", "olmo")) {
            assertEquals(split("gpt-2", "Ab 12345 I'M\n\n  x"), split(pre, "Ab 12345 I'M\n\n  x"), pre);
        }
    }

    @Test
    void flagsMirrorLlamaCpp() {
        // name, ignoreMerges, cleanSpaces, addBosDefault
        Object[][] expected = {
                {"default", false, true, false},
                {"gpt-2", false, true, false},
                {"llama-bpe", true, true, true},
                {"llama3", true, true, true},
                {"midm-2.0", true, true, true},
                {"dbrx", false, true, false},
                {"smaug-bpe", false, true, false},
                {"qwen2", false, false, false},
                {"deepseek-llm", false, false, false},
                {"deepseek-coder", false, false, false},
                {"falcon", false, true, false},
                {"starcoder", false, true, false},
                {"refact", false, true, false},
                {"mpt", false, true, false},
                {"gpt-neox", false, true, false},
                {"command-r", false, false, false},
                {"exaone", false, true, false},
                {"exaone4", false, true, false},
                {"a.x-4.0", false, true, false},
                {"trillion", false, false, false},
                {"llama4", false, false, false},
                {"gpt-4o", false, false, false},
                {"kanana2", false, false, false},
                {"tekken", true, false, true},
        };
        for (Object[] row : expected) {
            BpeSpec s = BpeSpec.forPre((String) row[0]);
            assertEquals(row[0], s.pre());
            assertEquals(row[0], s.preTokenizer().name());
            assertEquals(row[1], s.ignoreMerges(), row[0] + " ignoreMerges");
            assertEquals(row[2], s.cleanSpaces(), row[0] + " cleanSpaces");
            assertEquals(row[3], s.addBosDefault(), row[0] + " addBosDefault");
        }
        assertEquals(split("llama-bpe", "Hi 12345 it's\n x"), split("midm-2.0", "Hi 12345 it's\n x"));
    }

    @Test
    void defaultAndFalconSplitPunctuationFirstAndDigitsInThrees() {
        assertEquals(List.of("a", "...", " b", "123", "456", "7"), split("default", "a... b1234567"));
        assertEquals(List.of("a", "...", " b", "123", "456", "7"), split("falcon", "a... b1234567"));
        // falcon's punctuation class has the backtick, the default one does not
        assertEquals(List.of("x", "`", ".", "y"), split("default", "x`.y"));
        assertEquals(List.of("x", "`.", "y"), split("falcon", "x`.y"));
    }

    @Test
    void piecesConcatenateToTheTextForEveryName() {
        Random r = new Random(7);
        int[] alphabet = {'a', 'Z', '1', '٣', ' ', ' ', '\n', '\r', '\t', '\'', 's', '!', '.', '$', '~', '`',
                '日', 'ｶ', 'ﾞ', '가', 'ᄀ', '\u3099', '\u3000', '\u00A0', '\u0085', '\u200D', 0x1F600, 0x20000,
                0xE000, 0x378, 0, 0x7F, 0xD800};
        for (String pre : BpeSpec.knownNames()) {
            PreTokenizer p = PreTokenizer.forName(pre);
            for (int t = 0; t < 200; t++) {
                StringBuilder b = new StringBuilder();
                int len = r.nextInt(40);
                for (int i = 0; i < len; i++) b.appendCodePoint(alphabet[r.nextInt(alphabet.length)]);
                String text = b.toString();
                List<String> pieces = p.split(text);
                assertEquals(text, String.join("", pieces), pre);
                for (String piece : pieces) assertFalse(piece.isEmpty(), pre);
            }
            assertEquals(List.of(), p.split(""), pre);
        }
    }

    @Test
    void longInputsSplitInLinearTimeWithoutStackOverflow() {
        StringBuilder ja = new StringBuilder();
        String sentence = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。";
        while (ja.length() < 350_000) ja.append(sentence); // about 1 MB of UTF-8
        String japanese = ja.toString();
        String spaces = " ".repeat(300_000) + "1" + "\n".repeat(100_000) + "x" + " \t".repeat(100_000) + "9";
        String noSpaces = "日本語".repeat(120_000);
        // one name per distinct regex list
        for (String pre : List.of("default", "gpt-2", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
                "falcon", "starcoder", "llama4", "tekken", "bloom", "viking", "seed-coder", "bailingmoe")) {
            PreTokenizer p = PreTokenizer.forName(pre);
            for (String text : List.of(japanese, spaces, noSpaces)) {
                long start = System.nanoTime();
                List<String> pieces = p.split(text);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals(text.length(), pieces.stream().mapToInt(String::length).sum(), pre);
                assertTrue(ms < 10_000, pre + " took " + ms + " ms on " + text.length() + " chars");
            }
        }
    }
}

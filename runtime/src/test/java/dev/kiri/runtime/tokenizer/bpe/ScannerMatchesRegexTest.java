package dev.kiri.runtime.tokenizer.bpe;

import static dev.kiri.runtime.tokenizer.bpe.RegexSplit.L;
import static dev.kiri.runtime.tokenizer.bpe.RegexSplit.N;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The hand-written scanners against the regexes they stand for, run the way llama.cpp's generic
 * engine runs a regex (on the collapsed text). For Qwen2 this is the claim that matters: llama.cpp
 * runs Qwen2's regex through that engine, and Kiri runs the scanner instead.
 */
class ScannerMatchesRegexTest {
    private static final String CONTRACTIONS_ANY_CASE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";

    private static final String QWEN2 = CONTRACTIONS_ANY_CASE + "|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]"
            + "| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String LLAMA3 = CONTRACTIONS_ANY_CASE + "|[^\\r\\n" + L + N + "]?[" + L + "]+|[" + N + "]{1,3}"
            + "| ?[^\\s" + L + N + "]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?[" + L + "]+| ?[" + N + "]+| ?[^\\s" + L + N + "]+"
            + "|\\s+(?!\\S)|\\s+";

    private static final String UPPER = "(?:(?=[" + L + "])[^a-z])";
    private static final String LOWER = "(?:(?=[" + L + "])[^A-Z])";
    private static final String GPT4O = "[^\\r\\n" + L + N + "]?" + UPPER + "*" + LOWER + "+(?:" + CONTRACTIONS_ANY_CASE
            + ")?|[^\\r\\n" + L + N + "]?" + UPPER + "+" + LOWER + "*(?:" + CONTRACTIONS_ANY_CASE + ")?|[" + N
            + "]{1,3}| ?[^\\s" + L + N + "]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String TEKKEN = "[^\\r\\n" + L + N + "]?" + UPPER + "*" + LOWER + "+|[^\\r\\n" + L + N + "]?"
            + UPPER + "+" + LOWER + "*|[" + N + "]| ?[^\\s" + L + N + "]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final int[] ALPHABET = {'a', 'b', 'S', 'T', 'r', 'E', 'v', 'l', 'L', 'd', 'm', '\'', '1', '٣', '²',
            ' ', ' ', ' ', '\n', '\r', '\t', '\u000B', '!', '.', '$', '`', '~', '日', 'ｶ', 'ﾞ', '가', '\u3099', '\u0301',
            '\u3000', '\u00A0', '\u0085', '\u2028', '\u200D', 0x1F600, 0x20000, 0xE000, 0x378, 0, 0x1C, 0x7F, 0xD800,
            'é', 'Ж', 'A', 'Z', 'z', 'Q', '/', 'Ä', 'ß'};

    private static void check(SplitStep scanner, String regex, String label) {
        PreTokenizer viaScanner = new ChainPreTokenizer(label, scanner);
        PreTokenizer viaRegex = new ChainPreTokenizer(label, RegexSplit.collapsed(regex, label));
        Random r = new Random(label.hashCode());
        for (int t = 0; t < 20_000; t++) {
            StringBuilder b = new StringBuilder();
            int len = r.nextInt(16);
            for (int i = 0; i < len; i++) b.appendCodePoint(ALPHABET[r.nextInt(ALPHABET.length)]);
            String text = b.toString();
            List<String> want = viaRegex.split(text);
            assertEquals(want, viaScanner.split(text), () -> label + " on " + BpeVocabConformanceTest.escape(text));
        }
    }

    @Test
    void qwen2ScannerIsTheQwen2Regex() {
        check(Llama3Split.QWEN2, QWEN2, "qwen2");
    }

    @Test
    void llama3ScannerIsTheLlama3Regex() {
        check(Llama3Split.LLAMA3, LLAMA3, "llama3");
    }

    @Test
    void gpt2ScannerIsTheGpt2Regex() {
        check(Gpt2Split.INSTANCE, GPT2, "gpt2");
    }

    @Test
    void gpt4oScannerIsTheGpt4oRegex() {
        check(Gpt4oSplit.GPT4O, GPT4O, "gpt-4o");
    }

    @Test
    void tekkenScannerIsTheTekkenRegex() {
        check(Gpt4oSplit.TEKKEN, TEKKEN, "tekken");
    }
}

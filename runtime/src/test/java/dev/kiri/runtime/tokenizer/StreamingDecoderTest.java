package dev.kiri.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    @Test
    void aKanjiSplitOverByteTokensWaitsForItsLastByte() {
        Tokenizer t = VocabFixtures.tiny();
        int[] ids = t.encode("日本", false, false); // byte fallback: ▁ then 3 + 3 byte tokens
        StreamingDecoder d = StreamingDecoder.forText(t, false);
        List<String> out = new ArrayList<>();
        for (int id : ids) out.add(d.accept(id));
        out.add(d.flush());
        assertEquals("日本", String.join("", out));
        for (String s : out) assertTrue(s.isEmpty() || s.equals("日") || s.equals("本"), "emitted " + out);
        assertTrue(out.contains("日") && out.contains("本"), out.toString());
    }

    @Test
    void continuingKeepsTheLeadingSpaceOfTheFirstPiece() {
        Tokenizer t = VocabFixtures.vocab("llama-spm");
        int[] ids = t.encode("world", false, false);
        StreamingDecoder d = StreamingDecoder.continuing(t, false);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(d.accept(id));
        sb.append(d.flush());
        assertEquals(" world", sb.toString());
    }

    @Test
    void flushGivesAnIncompleteSequenceAsReplacementCharacter() {
        Tokenizer t = VocabFixtures.tiny();
        int[] ids = t.encode("日", false, false);
        StreamingDecoder d = StreamingDecoder.forText(t, false);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) sb.append(d.accept(ids[i]));
        assertEquals("", sb.toString());
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void spaceCleanUpIsAppliedAcrossTokenBoundaries() {
        // the clean-up in isolation: the same passes the decoder runs on each chunk
        byte[] b = "Hello , world ! it 's a ' b ' test .".getBytes();
        int n = Texts.cleanSpaces(b, b.length);
        assertEquals("Hello, world! it's a'b'test.", new String(b, 0, n));
        // the second pass blanks the space it removes, so the next apostrophe has no space before it
        b = "x ' ' y".getBytes();
        assertEquals("x'' y", new String(b, 0, Texts.cleanSpaces(b, b.length)));
    }

    /**
     * Random text made of what the space clean-up looks at (spaces, apostrophes, ?!., and the
     * letters of 's 'm 're 've 't 'd 'll), streamed token by token through a vocabulary that
     * cleans spaces, always gives exactly decode's text.
     */
    @Test
    void streamingEqualsDecodeOnRandomCleanUpPatterns() {
        Tokenizer t = VocabFixtures.vocab("gpt-2");
        char[] alphabet = {' ', ' ', ' ', '\'', '\'', '?', '!', '.', ',', 's', 'm', 'r', 'e', 'v', 't', 'd', 'l', 'x', 'é', '日'};
        java.util.Random r = new java.util.Random(3);
        for (int round = 0; round < 300; round++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + r.nextInt(40);
            for (int i = 0; i < len; i++) sb.append(alphabet[r.nextInt(alphabet.length)]);
            String s = sb.toString();
            int[] ids = t.encode(s, false, false);
            for (boolean startOfText : new boolean[] {true, false}) {
                StreamingDecoder d = startOfText ? StreamingDecoder.forText(t, false) : StreamingDecoder.continuing(t, false);
                StringBuilder out = new StringBuilder();
                for (int id : ids) out.append(d.accept(id));
                out.append(d.flush());
                assertEquals(t.decode(ids, false), out.toString(), "text '" + s + "'");
            }
        }
    }

    @Test
    void aWordIsReleasedWhenTheNextTokenArrives() {
        Tokenizer t = VocabFixtures.vocab("gpt-2");
        int[] ids = t.encode("I am so bad at it", false, false);
        StreamingDecoder d = StreamingDecoder.continuing(t, false);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            sb.append(d.accept(ids[i]));
            if (i >= 1) assertTrue(sb.length() > 0, "nothing released after " + (i + 1) + " tokens");
        }
        assertEquals("I am so bad at it", sb.append(d.flush()).toString());
    }
}

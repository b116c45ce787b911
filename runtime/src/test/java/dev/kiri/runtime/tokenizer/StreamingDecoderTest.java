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
}

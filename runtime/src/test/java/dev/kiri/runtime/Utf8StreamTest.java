package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class Utf8StreamTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (byte) v[i];
        return out;
    }

    @Test
    void aKanjiSplitOverByteTokensArrivesWholeWithItsLastByte() {
        Utf8Stream s = new Utf8Stream();
        byte[] kanji = "日本".getBytes(StandardCharsets.UTF_8); // E6 97 A5 E6 9C AC
        assertEquals("", s.accept(b(kanji[0] & 0xFF)));
        assertEquals("", s.accept(b(kanji[1] & 0xFF)));
        assertEquals("日", s.accept(b(kanji[2] & 0xFF, kanji[3] & 0xFF)));
        assertEquals("", s.accept(b(kanji[4] & 0xFF)));
        assertEquals("本 ok", s.accept(b(kanji[5] & 0xFF, ' ', 'o', 'k')));
        assertEquals("", s.finish());
    }

    @Test
    void fourByteCharactersAndHangulAcrossTokens() {
        Utf8Stream s = new Utf8Stream();
        byte[] all = "한😀".getBytes(StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (byte x : all) out.append(s.accept(new byte[] {x}));
        assertEquals("한😀", out.toString());
    }

    @Test
    void invalidBytesBecomeReplacementCharactersAndAreNotHeldBack() {
        Utf8Stream s = new Utf8Stream();
        assertEquals("a\uFFFD", s.accept(b('a', 0x80)));          // stray continuation byte
        assertEquals("\uFFFD", s.accept(b(0xFF)));                // never valid
        assertEquals("\uFFFD\uFFFD(", s.accept(b(0xE0, 0x80, '(')));  // E0 must be followed by A0..BF: two maximal subparts
        assertEquals("", s.accept(b(0xF0, 0x9F)));                // a valid start: wait
        assertEquals("\uFFFD", s.finish());                       // ... that never completes
    }
}

package dev.kiri.runtime.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ByteLevelTest {

    @Test
    void everyByteRoundTripsThroughItsOwnCharacter() {
        byte[] all = new byte[256];
        for (int b = 0; b < 256; b++) all[b] = (byte) b;
        String encoded = ByteLevel.encode(all);
        assertEquals(256, encoded.length());
        Set<Character> distinct = new HashSet<>();
        for (char c : encoded.toCharArray()) {
            distinct.add(c);
            assertTrue(c > ' ' && c < 0x144 && c != 0x7F && c != 0xAD, "printable, below U+0144: " + (int) c);
        }
        assertEquals(256, distinct.size(), "each byte has its own character");
        assertArrayEquals(all, ByteLevel.decode(encoded));
        for (int b = 0; b < 256; b++) assertEquals(b, ByteLevel.byteOf(ByteLevel.charOf(b)));
    }

    @Test
    void gpt2Characters() {
        assertEquals('Ġ', ByteLevel.charOf(' '));
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertEquals('Ā', ByteLevel.charOf(0));
        assertEquals('A', ByteLevel.charOf('A'));
        assertEquals('ÿ', ByteLevel.charOf(0xFF));
        assertEquals('Ń', ByteLevel.charOf(0xAD)); // the last of the 68 remapped bytes
        assertEquals("HelloĠworld", ByteLevel.encode("Hello world".getBytes(StandardCharsets.UTF_8)));
        assertEquals("æĹ¥æľ¬", ByteLevel.encode("日本".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void decodeWritesCharactersOutsideTheMappingAsUtf8() {
        assertArrayEquals("<|endoftext|>".getBytes(StandardCharsets.UTF_8), ByteLevel.decode("<|endoftext|>"));
        assertArrayEquals("a日".getBytes(StandardCharsets.UTF_8), ByteLevel.decode("a日"));
        assertEquals(-1, ByteLevel.byteOf('日'));
    }
}

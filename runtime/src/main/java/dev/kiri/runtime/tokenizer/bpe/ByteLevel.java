package dev.kiri.runtime.tokenizer.bpe;

import java.io.ByteArrayOutputStream;

/**
 * GPT-2's reversible byte-to-character mapping, used by every byte-level BPE vocabulary.
 *
 * <p>Each of the 256 byte values stands for one printable character so that vocabulary entries
 * never contain raw spaces, control bytes or broken UTF-8: the printable ranges {@code '!'..'~'},
 * {@code '¡'..'¬'} and {@code '®'..'ÿ'} stand for themselves, and the 68 remaining bytes, in
 * increasing order, take the characters U+0100, U+0101, … (so a space is {@code Ġ} U+0120 and a
 * newline {@code Ċ} U+010A). Every mapped character lies below U+0144.
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Index: the character; value: its byte, or -1 for characters that stand for no byte. */
    private static final short[] CHAR_TO_BYTE = new short[0x144];

    static {
        boolean[] self = new boolean[256];
        for (int b = '!'; b <= '~'; b++) self[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) self[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) self[b] = true;
        int next = 0x100;
        for (int b = 0; b < 256; b++) BYTE_TO_CHAR[b] = self[b] ? (char) b : (char) next++;
        java.util.Arrays.fill(CHAR_TO_BYTE, (short) -1);
        for (int b = 0; b < 256; b++) CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = (short) b;
    }

    private ByteLevel() {
    }

    /** The character that stands for byte {@code b} (only the low 8 bits are used). */
    public static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /**
     * The byte character {@code c} stands for, or -1 when {@code c} is not one of the 256
     * byte-level characters.
     */
    public static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Maps raw bytes to their byte-level characters: one character per byte. */
    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /**
     * Maps a vocabulary piece back to its raw bytes. A character that is not a byte-level
     * character (added tokens such as {@code <|endoftext|>} are stored as plain text) is written
     * as its own UTF-8, which is what llama.cpp does for such pieces.
     */
    public static byte[] decode(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        int i = 0;
        while (i < piece.length()) {
            char c = piece.charAt(i);
            int b = byteOf(c);
            if (b >= 0) {
                out.write(b);
                i++;
            } else {
                int cp = piece.codePointAt(i);
                int n = Character.charCount(cp);
                byte[] utf8 = piece.substring(i, i + n).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.write(utf8, 0, utf8.length);
                i += n;
            }
        }
        return out.toByteArray();
    }

    /** True when every character of {@code piece} is a byte-level character. */
    public static boolean isByteLevel(String piece) {
        for (int i = 0; i < piece.length(); i++) if (byteOf(piece.charAt(i)) < 0) return false;
        return true;
    }
}

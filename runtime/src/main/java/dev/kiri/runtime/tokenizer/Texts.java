package dev.kiri.runtime.tokenizer;

/** Small text helpers shared by the tokenizers and decoders. */
final class Texts {
    private Texts() {
    }

    /** The string with every unpaired surrogate replaced by U+FFFD (the same string when there is none). */
    static String replaceLoneSurrogates(String s) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i += 2;
            } else if (Character.isSurrogate(c)) {
                break;
            } else {
                i++;
            }
        }
        if (i == n) return s;
        StringBuilder sb = new StringBuilder(n).append(s, 0, i);
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(i + 1));
                i += 2;
            } else {
                sb.append(Character.isSurrogate(c) ? '\uFFFD' : c);
                i++;
            }
        }
        return sb.toString();
    }

    /** C's {@code isspace} in the "C" locale: space, tab, newline, vertical tab, form feed, carriage return. */
    static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /**
     * llama.cpp's {@code clean_spaces} post-processing of decoded text, in place over
     * {@code t[0, n)}; returns the new length. Three passes, each over the previous one's output:
     * <ol>
     * <li>a space before {@code ? ! . ,} is removed;</li>
     * <li>{@code " ' "} loses both spaces;</li>
     * <li>a space before {@code 's 'm 're 've} is removed ({@code 't 'd 'll} keep theirs).</li>
     * </ol>
     * The passes read neighbours exactly as the original does, including the quirk that the
     * second pass blanks the space it removes, so the character after it never sees a space before it.
     */
    static int cleanSpaces(byte[] t, int n) {
        // pass 1
        int len = n;
        int w = len > 0 ? 1 : 0;
        for (int i = 1; i < len; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) w--;
            t[w++] = x;
        }
        // pass 2
        len = w;
        w = len > 0 ? 1 : 0;
        for (int i = 1; i < len; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < len && t[i - 1] == ' ' && t[i + 1] == ' ') {
                w--;
                t[++i] = 0;
            }
            t[w++] = x;
        }
        // pass 3
        len = w;
        w = len > 0 ? 1 : 0;
        for (int i = 1; i < len; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < len) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    w--;
                } else if (x1 != 't' && x1 != 'd' && i + 2 < len) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) w--;
                }
            }
            t[w++] = x;
        }
        return w;
    }

    /**
     * The length of the longest prefix of {@code b[0, n)} that does not end inside an incomplete
     * UTF-8 sequence: a lead byte whose continuation bytes have not all arrived is held back.
     * Invalid bytes are not held (they decode to U+FFFD either way).
     */
    static int completeUtf8Prefix(byte[] b, int n) {
        // find the last byte that is not a continuation byte, looking back at most 3 bytes
        int i = n - 1;
        int limit = Math.max(0, n - 4);
        while (i >= limit && (b[i] & 0xC0) == 0x80) i--;
        if (i < limit) return n; // only continuation bytes: invalid, nothing to wait for
        int lead = b[i] & 0xFF;
        int need = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xC2 && lead <= 0xDF ? 2 : 1;
        return n - i < need ? i : n;
    }
}

package dev.kiri.runtime.tokenizer.bpe;

import java.util.Arrays;

/**
 * The text being split, as code points, plus the current piece boundaries. Each split step
 * refines every current piece on its own, as llama.cpp applies its regex list one after the
 * other: matches become pieces, and so does the text between them.
 */
final class Segments {
    final String text;
    /** The code points of the text; a lone surrogate is its own code point. */
    final int[] cps;
    /** {@code charStart[i]} is the char index of code point {@code i}; one extra entry at the end. */
    final int[] charStart;
    final int length;

    /** End positions (exclusive, in code points) of the pieces, ascending. */
    private int[] ends = new int[16];
    private int count;

    private String collapsed;
    private String wide;

    Segments(String text) {
        this.text = text;
        int n = text.codePointCount(0, text.length());
        this.length = n;
        this.cps = new int[n];
        this.charStart = new int[n + 1];
        int ci = 0;
        for (int i = 0; i < n; i++) {
            int cp = text.codePointAt(ci);
            cps[i] = cp;
            charStart[i] = ci;
            ci += Character.charCount(cp);
        }
        charStart[n] = ci;
        if (n > 0) add(n);
    }

    int count() {
        return count;
    }

    int end(int i) {
        return ends[i];
    }

    /** Replaces the boundaries with the ones of {@code next}. */
    void replaceWith(Boundaries next) {
        ends = next.ends;
        count = next.count;
    }

    private void add(int end) {
        if (count == ends.length) ends = Arrays.copyOf(ends, count * 2);
        ends[count++] = end;
    }

    /**
     * One character per code point: ASCII as it is, everything else collapsed to the stand-in of
     * its class (see {@link CodepointClass#collapsed}), as llama.cpp feeds its regex fallback.
     */
    String collapsed() {
        if (collapsed == null) {
            char[] c = new char[length];
            for (int i = 0; i < length; i++) c[i] = CodepointClass.collapsed(cps[i]);
            collapsed = new String(c);
        }
        return collapsed;
    }

    /**
     * The text with every non-ASCII whitespace character replaced by U+000B, as llama.cpp feeds
     * its wide-character regex fallback; char indices are those of the original text.
     */
    String wide() {
        if (wide == null) {
            char[] c = text.toCharArray();
            for (int i = 0; i < c.length; i++) {
                if (c[i] > 0x7F && CodepointClass.isWhitespace(c[i])) c[i] = '\u000B';
            }
            wide = new String(c);
        }
        return wide;
    }

    /** The code point index of char index {@code ci}, which must start a code point. */
    int cpIndexOfChar(int ci) {
        if (length == text.length()) return ci;
        int i = Arrays.binarySearch(charStart, ci);
        if (i < 0) throw new IllegalStateException("char index " + ci + " splits a code point");
        return i;
    }

    String[] pieces() {
        String[] out = new String[count];
        int start = 0;
        for (int i = 0; i < count; i++) {
            out[i] = text.substring(charStart[start], charStart[ends[i]]);
            start = ends[i];
        }
        return out;
    }

    /** Growing list of piece ends; adding an end that does not advance is a no-op. */
    static final class Boundaries {
        int[] ends;
        int count;
        private int last;

        Boundaries(int capacity) {
            ends = new int[Math.max(16, capacity)];
        }

        void add(int end) {
            if (end <= last) return;
            if (count == ends.length) ends = Arrays.copyOf(ends, count * 2);
            ends[count++] = end;
            last = end;
        }
    }
}

package dev.kiri.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token ids into text one id at a time, never emitting half a character: the bytes of an
 * incomplete UTF-8 sequence (a kanji split over byte tokens, an emoji over BPE tokens) wait until
 * their last byte arrives. Where the tokenizer cleans up spaces before punctuation, the last few
 * bytes also wait until what follows them is known, so the concatenated output is exactly what
 * {@link Tokenizer#decode} gives for the whole sequence.
 *
 * <p>Not thread-safe; one per sequence. {@link #accept} allocates the returned string (plus a
 * scratch copy where spaces are cleaned up), and nothing when there is nothing new to return.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean special;
    private final boolean clean;
    private boolean stripSpace;
    private byte[] pending = new byte[64];
    private int n;

    private StreamingDecoder(Tokenizer tokenizer, boolean special, boolean startOfText) {
        this.tokenizer = tokenizer;
        this.special = special;
        this.clean = tokenizer.cleansSpaces();
        this.stripSpace = startOfText && tokenizer.stripsLeadingSpace();
    }

    /**
     * A decoder for a whole text from its first token: the concatenation of everything it returns
     * equals {@code tokenizer.decode(ids, special)} (the SentencePiece leading space is dropped).
     */
    public static StreamingDecoder forText(Tokenizer tokenizer, boolean special) {
        return new StreamingDecoder(tokenizer, special, true);
    }

    /**
     * A decoder for tokens that continue text already shown (generated tokens after a prompt):
     * the first piece keeps its leading space, which separates it from the prompt.
     */
    public static StreamingDecoder continuing(Tokenizer tokenizer, boolean special) {
        return new StreamingDecoder(tokenizer, special, false);
    }

    /**
     * Adds one token and returns the text that is now complete (often empty, never null).
     *
     * @throws IllegalArgumentException naming the id when it is outside the vocabulary
     */
    public String accept(int id) {
        byte[] p = tokenizer instanceof VocabTokenizer vt ? vt.pieceBytes(id, special) : tokenizer.tokenBytes(id, special);
        int from = 0;
        if (stripSpace && p.length > 0) {
            if (p[0] == ' ') from = 1;
        }
        stripSpace = false; // only the very first token, as llama_detokenize does
        int add = p.length - from;
        if (add == 0) return "";
        if (n + add > pending.length) pending = Arrays.copyOf(pending, Math.max(pending.length * 2, n + add));
        int oldN = n;
        System.arraycopy(p, from, pending, n, add);
        n += add;
        int cut = clean ? cleanCut(oldN) : Texts.completeUtf8Prefix(pending, n);
        return emit(cut);
    }

    /** Returns everything still held back (an incomplete sequence decodes to U+FFFD) and resets. */
    public String flush() {
        String s = emit(n);
        stripSpace = false;
        return s;
    }

    /**
     * The longest prefix that can be cleaned on its own: it ends with two bytes that the space
     * clean-up neither removes nor looks for (no space, apostrophe or {@code ?!.,}), at a complete
     * UTF-8 character. Every clean-up pattern has a space or an apostrophe next to the bytes it
     * decides on ({@code " ?"}, {@code " ' "}, {@code " 're"}), so none can span two such bytes:
     * cleaning the prefix and the rest separately gives what cleaning the whole gives. Only cut
     * points in the newly added bytes are new candidates.
     */
    private int cleanCut(int oldN) {
        for (int p = n; p > oldN && p >= 2; p--) {
            if (plain(pending[p - 1]) && plain(pending[p - 2]) && Texts.completeUtf8Prefix(pending, p) == p) return p;
        }
        return 0;
    }

    private static boolean plain(byte b) {
        return b != ' ' && b != '\'' && b != '?' && b != '!' && b != '.' && b != ',';
    }

    private String emit(int cut) {
        if (cut == 0) return "";
        int len = cut;
        if (clean) {
            byte[] chunk = Arrays.copyOf(pending, cut);
            len = Texts.cleanSpaces(chunk, cut);
            String s = new String(chunk, 0, len, StandardCharsets.UTF_8);
            shift(cut);
            return s;
        }
        String s = new String(pending, 0, len, StandardCharsets.UTF_8);
        shift(cut);
        return s;
    }

    private void shift(int cut) {
        System.arraycopy(pending, cut, pending, 0, n - cut);
        n -= cut;
    }
}

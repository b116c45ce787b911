package dev.kiri.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * SentencePiece-style tokenizer ({@code tokenizer.ggml.model = llama}) as llama.cpp runs it.
 *
 * <ol>
 * <li>Spaces become {@code ▁} (U+2581); text at the start or after a special token gets one more
 *     in front when {@code add_space_prefix} is on.</li>
 * <li>Each code point is a symbol. Every adjacent pair whose concatenation is a token goes into a
 *     priority queue ordered by that token's score (highest first), then by position (leftmost
 *     first).</li>
 * <li>The best pair is merged; entries made stale by earlier merges are skipped; the new symbol's
 *     pairs with its neighbours are queued. This repeats until the queue is empty: O(n log n).</li>
 * <li>Each remaining symbol is its token, or, when it is not in the vocabulary, its UTF-8 bytes as
 *     {@code <0xXX>} byte tokens (byte fallback).</li>
 * </ol>
 *
 * No Unicode normalisation is applied (SentencePiece's own NFKC is not), which is what llama.cpp
 * does and what the expected ids in the conformance fixtures record.
 */
public final class SpmTokenizer extends VocabTokenizer {
    private static final char SPACE_MARK = '\u2581';

    private final TokenIndex index;
    private final float[] scores;
    /** Byte value to its fallback token ({@code <0xXX>}, else the one-character token), or -1. */
    private final int[] byteTokens = new int[256];
    /** True when no token has {@code ▁} right after another character: words then merge independently. */
    private final boolean spaceStartsWords;

    /** A tokenizer over a {@code llama} vocabulary. */
    public SpmTokenizer(Vocabulary vocab) {
        super(vocab);
        this.index = vocab.index();
        this.scores = new float[vocab.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = vocab.score(i);
        for (int b = 0; b < 256; b++) {
            int id = index.find(String.format(Locale.ROOT, "<0x%02X>", b));
            if (id < 0 && b < 0x80) id = index.find(String.valueOf((char) b));
            byteTokens[b] = id;
        }
        boolean starts = true;
        for (int id = 0; id < vocab.size() && starts; id++) {
            String t = vocab.token(id);
            for (int i = 1; i < t.length(); i++) {
                if (t.charAt(i) == SPACE_MARK && t.charAt(i - 1) != SPACE_MARK) {
                    starts = false;
                    break;
                }
            }
        }
        this.spaceStartsWords = starts;
    }

    @Override
    byte[] normalPiece(String text) {
        return text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        boolean prefix = vocab.addSpacePrefix() && afterSpecial;
        int n = text.length() + (prefix ? 1 : 0);
        char[] buf = new char[n];
        int o = 0;
        if (prefix) buf[o++] = SPACE_MARK;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            buf[o++] = c == ' ' ? SPACE_MARK : c;
        }
        Session session = new Session(buf);
        if (!spaceStartsWords) {
            session.encode(0, n, out);
            return;
        }
        // No token has a space mark right after another character, so no merge crosses such a
        // place: each word merges on its own (same result, and a small, cache-resident queue).
        int from = 0;
        for (int i = 1; i < n; i++) {
            if (buf[i] == SPACE_MARK && buf[i - 1] != SPACE_MARK) {
                session.encode(from, i, out);
                from = i;
            }
        }
        session.encode(from, n, out);
    }

    /** Scratch state of one encode call: the text and the symbol list, reused word after word. */
    private final class Session {
        final char[] buf;
        final int[] start;
        final int[] len;
        final int[] prev;
        final int[] next;
        final BigramQueue queue = new BigramQueue(64);

        Session(char[] buf) {
            this.buf = buf;
            int n = buf.length;
            start = new int[n];
            len = new int[n];
            prev = new int[n];
            next = new int[n];
        }

        /** Merges {@code buf[from, to)} and appends its ids. */
        void encode(int from, int to, IntList out) {
            // symbols: one per code point, a doubly linked list over the arrays
            int count = 0;
            for (int i = from; i < to; ) {
                int l = Character.isHighSurrogate(buf[i]) && i + 1 < to && Character.isLowSurrogate(buf[i + 1]) ? 2 : 1;
                start[count] = i;
                len[count] = l;
                prev[count] = count - 1;
                i += l;
                next[count] = i == to ? -1 : count + 1;
                count++;
            }
            if (count == 0) return;

            queue.clear();
            for (int i = 1; i < count; i++) tryAddBigram(i - 1, i);

            while (!queue.isEmpty()) {
                int left = queue.topLeft();
                int size = queue.topSize();
                queue.pop();
                // skip pairs whose symbols changed since they were queued (a symbol only grows,
                // or empties when merged into its left neighbour, so the sizes tell)
                int right = next[left];
                if (len[left] == 0 || right < 0 || len[left] + len[right] != size) continue;
                len[left] += len[right];
                len[right] = 0;
                next[left] = next[right];
                if (next[right] >= 0) prev[next[right]] = left;
                tryAddBigram(prev[left], left);
                tryAddBigram(left, next[left]);
            }

            for (int i = 0; i != -1; i = next[i]) {
                int id = index.find(buf, start[i], len[i]);
                if (id >= 0) {
                    out.add(id);
                } else {
                    byte[] bytes = new String(buf, start[i], len[i]).getBytes(StandardCharsets.UTF_8);
                    for (byte b : bytes) out.add(byteToken(b & 0xFF));
                }
            }
        }

        private void tryAddBigram(int left, int right) {
            if (left < 0 || right < 0) return;
            int size = len[left] + len[right];
            int id = index.find(buf, start[left], size);
            if (id < 0) return;
            queue.push(scores[id], left, size);
        }
    }

    private int byteToken(int b) {
        int id = byteTokens[b];
        if (id >= 0) return id;
        if (vocab.unk() >= 0) return vocab.unk();
        throw new IllegalArgumentException(vocab.source() + ": the vocabulary has no token for byte 0x"
                + String.format(Locale.ROOT, "%02X", b) + " (no <0x" + String.format(Locale.ROOT, "%02X", b)
                + "> byte token) and no unknown token");
    }

    /**
     * A binary heap of candidate merges: higher score first, then the leftmost pair, as llama.cpp
     * orders them. Each entry is one long (score bits flipped so that higher sorts first, then the
     * left symbol index) plus the pair's length, in two parallel arrays.
     */
    private static final class BigramQueue {
        private long[] key;
        private int[] size;
        private int n;

        BigramQueue(int cap) {
            key = new long[cap];
            size = new int[cap];
        }

        void clear() {
            n = 0;
        }

        boolean isEmpty() {
            return n == 0;
        }

        int topLeft() {
            return (int) key[0];
        }

        int topSize() {
            return size[0];
        }

        void push(float score, int left, int z) {
            if (n == key.length) {
                key = java.util.Arrays.copyOf(key, n * 2);
                size = java.util.Arrays.copyOf(size, n * 2);
            }
            int bits = Float.floatToIntBits(score + 0.0f); // -0.0 and 0.0 alike
            int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF); // float order as signed int order
            long k = ((long) ~ascending << 32) | left;          // higher score, then smaller left, first
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (key[p] <= k) break;
                key[i] = key[p];
                size[i] = size[p];
                i = p;
            }
            key[i] = k;
            size[i] = z;
        }

        void pop() {
            n--;
            if (n == 0) return;
            long k = key[n];
            int z = size[n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && key[c + 1] < key[c]) c++;
                if (key[c] >= k) break;
                key[i] = key[c];
                size[i] = size[c];
                i = c;
            }
            key[i] = k;
            size[i] = z;
        }
    }
}

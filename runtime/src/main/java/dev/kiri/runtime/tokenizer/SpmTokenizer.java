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

        // symbols: one per code point, in a doubly linked list over arrays
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            int l = Character.isHighSurrogate(buf[i]) && i + 1 < n && Character.isLowSurrogate(buf[i + 1]) ? 2 : 1;
            start[count] = i;
            len[count] = l;
            prev[count] = count - 1;
            i += l;
            next[count] = i == n ? -1 : count + 1;
            count++;
        }
        if (count == 0) return;

        BigramQueue queue = new BigramQueue(count + 16);
        for (int i = 1; i < count; i++) tryAddBigram(buf, start, len, i - 1, i, queue);

        while (!queue.isEmpty()) {
            int left = queue.topLeft();
            int right = queue.topRight();
            int size = queue.topSize();
            queue.pop();
            // skip pairs whose symbols have changed since the pair was queued
            if (len[left] == 0 || len[right] == 0 || len[left] + len[right] != size) continue;
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            tryAddBigram(buf, start, len, prev[left], left, queue);
            tryAddBigram(buf, start, len, left, next[left], queue);
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

    private void tryAddBigram(char[] buf, int[] start, int[] len, int left, int right, BigramQueue queue) {
        if (left < 0 || right < 0) return;
        int size = len[left] + len[right];
        int id = index.find(buf, start[left], size);
        if (id < 0) return;
        queue.push(scores[id], left, right, size);
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
     * A binary max-heap of candidate merges in parallel primitive arrays: higher score first, then
     * the smaller left index (the leftmost pair), as llama.cpp orders them.
     */
    private static final class BigramQueue {
        private float[] score;
        private int[] left;
        private int[] right;
        private int[] size;
        private int n;

        BigramQueue(int cap) {
            score = new float[cap];
            left = new int[cap];
            right = new int[cap];
            size = new int[cap];
        }

        boolean isEmpty() {
            return n == 0;
        }

        int topLeft() {
            return left[0];
        }

        int topRight() {
            return right[0];
        }

        int topSize() {
            return size[0];
        }

        /** True when entry a comes out before entry b. */
        private boolean before(int a, int b) {
            return score[a] > score[b] || (score[a] == score[b] && left[a] < left[b]);
        }

        void push(float s, int l, int r, int z) {
            if (n == score.length) grow();
            int i = n++;
            score[i] = s;
            left[i] = l;
            right[i] = r;
            size[i] = z;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (!before(i, p)) break;
                swap(i, p);
                i = p;
            }
        }

        void pop() {
            n--;
            if (n == 0) return;
            move(n, 0);
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                if (l >= n) break;
                int best = l + 1 < n && before(l + 1, l) ? l + 1 : l;
                if (!before(best, i)) break;
                swap(i, best);
                i = best;
            }
        }

        private void move(int from, int to) {
            score[to] = score[from];
            left[to] = left[from];
            right[to] = right[from];
            size[to] = size[from];
        }

        private void swap(int a, int b) {
            float s = score[a];
            score[a] = score[b];
            score[b] = s;
            int t = left[a];
            left[a] = left[b];
            left[b] = t;
            t = right[a];
            right[a] = right[b];
            right[b] = t;
            t = size[a];
            size[a] = size[b];
            size[b] = t;
        }

        private void grow() {
            int cap = score.length * 2;
            score = java.util.Arrays.copyOf(score, cap);
            left = java.util.Arrays.copyOf(left, cap);
            right = java.util.Arrays.copyOf(right, cap);
            size = java.util.Arrays.copyOf(size, cap);
        }
    }
}

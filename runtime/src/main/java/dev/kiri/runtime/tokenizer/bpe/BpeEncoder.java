package dev.kiri.runtime.tokenizer.bpe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Byte-level BPE: encodes one pre-token into vocabulary ids with the vocabulary's ranked merges,
 * exactly as llama.cpp does.
 *
 * <p>The pre-token's UTF-8 bytes become one symbol each (written with {@link ByteLevel}'s
 * characters, as the vocabulary is). Then, repeatedly, the adjacent pair with the lowest merge
 * rank, leftmost first, is merged, until no adjacent pair has a merge. Pairs wait in a priority
 * queue, so a word of {@code n} bytes costs {@code O(n log n)}. Each final symbol is emitted as
 * its vocabulary id. A final symbol that is not in the vocabulary (a byte whose character the
 * vocabulary lacks, or a merge result missing from it) is emitted, as llama.cpp does, as the
 * ids of its printable ASCII characters that are vocabulary entries, and its other bytes are
 * dropped.
 *
 * <p>With {@code ignoreMerges} (llama.cpp's {@code ignore_merges}, set for Llama 3), a pre-token
 * that is itself a vocabulary entry is emitted as that entry without merging.
 *
 * <p>Immutable after construction and safe for concurrent use. {@link #encode} works in
 * per-thread scratch arrays, so once warm it allocates nothing for words up to 4096 chars.
 */
public final class BpeEncoder {
    private final int vocabSize;
    private final boolean ignoreMerges;
    /** Id of the single-character symbol for each byte (a synthetic id when not a token). */
    private final int[] byteSymbol = new int[256];
    /** Texts of symbols that are not vocabulary entries, indexed by {@code id - vocabSize}. */
    private final String[] syntheticTexts;
    /** Token id of each printable ASCII character, or -1. */
    private final int[] asciiToken = new int[128];
    private final PairTable pairs;
    /** Token text to id; for duplicate texts the last id wins, as in llama.cpp. */
    private final TokenTable tokenTable;

    /**
     * @param tokens       {@code tokenizer.ggml.tokens}: the vocabulary, in byte-level characters
     * @param merges       {@code tokenizer.ggml.merges}: "left right" pairs, highest priority first
     * @param ignoreMerges emit a pre-token that is a vocabulary entry as is
     * @throws IllegalArgumentException naming the index of a merge that is not two parts
     *                                  separated by a space
     */
    public BpeEncoder(String[] tokens, String[] merges, boolean ignoreMerges) {
        this.vocabSize = tokens.length;
        this.ignoreMerges = ignoreMerges;
        this.tokenTable = new TokenTable(tokens);
        Map<String, Integer> synthetic = new HashMap<>();
        List<String> syntheticList = new ArrayList<>();
        Interner interner = (chars, off, len) -> {
            int id = tokenTable.get(chars, off, len);
            if (id >= 0) return id;
            return synthetic.computeIfAbsent(new String(chars, off, len), k -> {
                syntheticList.add(k);
                return vocabSize + syntheticList.size() - 1;
            });
        };
        char[] buf = new char[64];
        for (int b = 0; b < 256; b++) {
            buf[0] = ByteLevel.charOf(b);
            byteSymbol[b] = interner.intern(buf, 0, 1);
        }
        Arrays.fill(asciiToken, -1);
        for (int c = 0x21; c < 0x7F; c++) {
            buf[0] = (char) c;
            asciiToken[c] = tokenTable.get(buf, 0, 1);
        }
        this.pairs = new PairTable(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int space = m == null ? -1 : m.indexOf(' ', 1);
            int len = m == null ? 0 : m.length();
            if (space < 0 || space == len - 1) {
                throw new IllegalArgumentException("tokenizer.ggml.merges[" + rank + "] is not two parts separated by"
                        + " a space: " + (m == null ? "null" : "'" + m + "'"));
            }
            if (buf.length < len) buf = new char[2 * len];
            m.getChars(0, len, buf, 0);
            int l = interner.intern(buf, 0, space);
            int r = interner.intern(buf, space + 1, len - space - 1);
            if (pairs.find(l, r) >= 0) continue; // the first occurrence of a pair wins
            System.arraycopy(buf, space + 1, buf, space, len - space - 1); // left + right
            pairs.put(l, r, rank, interner.intern(buf, 0, len - 1));
        }
        this.syntheticTexts = syntheticList.toArray(new String[0]);
    }

    private interface Interner {
        int intern(char[] chars, int off, int len);
    }

    /** Number of vocabulary entries. */
    public int vocabularySize() {
        return vocabSize;
    }

    /** The id of a vocabulary entry, or -1. */
    public int tokenId(String text) {
        return tokenTable.get(text.toCharArray(), 0, text.length());
    }

    /**
     * Encodes one pre-token (raw text, not byte-level characters) and passes its ids to
     * {@code sink} in order. A lone surrogate is encoded as U+FFFD. The empty word gives no ids.
     */
    public void encode(String word, IntConsumer sink) {
        Scratch sc = word.length() <= Scratch.MAX_CACHED_CHARS ? SCRATCH.get() : null;
        if (sc == null || sc.busy) {
            sc = new Scratch(); // a long word, or a sink that encodes from inside encode
        }
        sc.busy = true;
        try {
            encode(sc, word, sink);
        } finally {
            sc.busy = false;
        }
    }

    private void encode(Scratch sc, String word, IntConsumer sink) {
        int n = sc.load(word);
        if (n == 0) return;
        char[] chars = sc.chars;
        if (n == 1) {
            emit(byteSymbol[ByteLevel.byteOf(chars[0])], sink);
            return;
        }
        if (ignoreMerges) {
            int whole = tokenTable.get(chars, 0, n);
            if (whole >= 0) {
                sink.accept(whole);
                return;
            }
        }
        int[] id = sc.ids;
        for (int i = 0; i < n; i++) id[i] = byteSymbol[ByteLevel.byteOf(chars[i])];
        if (n <= SMALL && !sc.forceQueue) {
            mergeSmall(id, n, sc.slots, sink);
        } else {
            mergeLarge(sc, n, sink);
        }
    }

    /** Words up to this many bytes merge by scanning for the best pair, without a queue. */
    private static final int SMALL = 24;

    /**
     * The same merge order as {@link #mergeLarge} (lowest rank, then leftmost) with the symbols
     * kept packed in an array: quadratic, but for a couple of dozen bytes faster than a queue.
     */
    private void mergeSmall(int[] id, int n, int[] slot, IntConsumer sink) {
        for (int i = 0; i + 1 < n; i++) slot[i] = pairs.find(id[i], id[i + 1]);
        while (n > 1) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                int sl = slot[i];
                if (sl >= 0 && pairs.ranks[sl] < bestRank) {
                    bestRank = pairs.ranks[sl];
                    best = i;
                }
            }
            if (best < 0) break;
            id[best] = pairs.merged[slot[best]];
            int tail = n - best - 2;
            System.arraycopy(id, best + 2, id, best + 1, tail);
            System.arraycopy(slot, best + 2, slot, best + 1, tail);
            n--;
            if (best > 0) slot[best - 1] = pairs.find(id[best - 1], id[best]);
            if (best + 1 < n) slot[best] = pairs.find(id[best], id[best + 1]);
        }
        for (int i = 0; i < n; i++) emit(id[i], sink);
    }

    /**
     * Symbols in a linked list, candidate pairs in a binary heap keyed by (rank, left position);
     * a popped pair whose left symbol's current pair is no longer the one queued is stale.
     */
    private void mergeLarge(Scratch sc, int n, IntConsumer sink) {
        sc.ensureLarge(n);
        int[] id = sc.ids;
        int[] prev = sc.prev;
        int[] next = sc.next;
        int[] slot = sc.slots;
        long[] heap = sc.heap;
        int[] ranks = pairs.ranks;
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        int size = 0;
        slot[n - 1] = -1;
        for (int i = 0; i + 1 < n; i++) {
            int sl = pairs.find(id[i], id[i + 1]);
            slot[i] = sl;
            if (sl >= 0) size = push(heap, size, key(ranks[sl], i));
        }
        while (size > 0) {
            long top = heap[0];
            size = pop(heap, size);
            int left = (int) top;
            int sl = slot[left];
            if (id[left] < 0 || sl < 0 || ranks[sl] != (int) (top >>> 32)) continue; // stale
            int right = next[left];
            id[left] = pairs.merged[sl];
            id[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) prev[after] = left;
            int p = prev[left];
            if (p >= 0) {
                int s2 = pairs.find(id[p], id[left]);
                slot[p] = s2;
                if (s2 >= 0) size = push(heap, size, key(ranks[s2], p));
            }
            if (after >= 0) {
                int s2 = pairs.find(id[left], id[after]);
                slot[left] = s2;
                if (s2 >= 0) size = push(heap, size, key(ranks[s2], left));
            } else {
                slot[left] = -1;
            }
        }
        for (int i = 0; i >= 0; i = next[i]) emit(id[i], sink);
    }

    private void emit(int symbol, IntConsumer sink) {
        if (symbol < vocabSize) {
            sink.accept(symbol);
            return;
        }
        String text = syntheticTexts[symbol - vocabSize];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80 && asciiToken[c] >= 0) sink.accept(asciiToken[c]);
        }
    }

    /** Encodes a whole word to a fresh array (convenience for tests and tools). */
    public int[] encode(String word) {
        VocabIds out = new VocabIds();
        encode(word, out);
        return out.toArray();
    }

    /** As {@link #encode(String)} but always with the queue, to check the short-word path. */
    int[] encodeWithQueue(String word) {
        Scratch sc = new Scratch();
        sc.forceQueue = true;
        VocabIds out = new VocabIds();
        encode(sc, word, out);
        return out.toArray();
    }

    private static final class VocabIds implements IntConsumer {
        int[] a = new int[8];
        int n;

        @Override
        public void accept(int id) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = id;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    private static long key(int rank, int left) {
        return ((long) rank << 32) | left;
    }

    private static int push(long[] heap, int size, long key) {
        int i = size;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] <= key) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = key;
        return size + 1;
    }

    private static int pop(long[] heap, int size) {
        size--;
        long last = heap[size];
        int i = 0;
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= last) break;
            heap[i] = heap[child];
            i = child;
        }
        if (size > 0) heap[i] = last;
        return size;
    }

    /** UTF-8 of {@code s}, with each lone surrogate written as U+FFFD. */
    static byte[] utf8(String s) {
        char[] chars = new char[s.length() * 3];
        int n = byteLevelChars(s, chars);
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) out[i] = (byte) ByteLevel.byteOf(chars[i]);
        return out;
    }

    /**
     * Writes the byte-level characters of the UTF-8 of {@code s} (a lone surrogate as U+FFFD) to
     * {@code out}, which must hold {@code 3 * s.length()} chars; returns how many.
     */
    static int byteLevelChars(String s, char[] out) {
        int len = s.length();
        int o = 0;
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[o++] = ByteLevel.charOf(c);
            } else if (c < 0x800) {
                out[o++] = ByteLevel.charOf(0xC0 | (c >> 6));
                out[o++] = ByteLevel.charOf(0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out[o++] = ByteLevel.charOf(0xF0 | (cp >> 18));
                out[o++] = ByteLevel.charOf(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = ByteLevel.charOf(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = ByteLevel.charOf(0x80 | (cp & 0x3F));
            } else {
                if (Character.isSurrogate(c)) c = '\uFFFD';
                out[o++] = ByteLevel.charOf(0xE0 | (c >> 12));
                out[o++] = ByteLevel.charOf(0x80 | ((c >> 6) & 0x3F));
                out[o++] = ByteLevel.charOf(0x80 | (c & 0x3F));
            }
        }
        return o;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Per-thread working arrays, so that encoding a word allocates nothing. */
    private static final class Scratch {
        /** Longer words get their own arrays, which are not kept. */
        static final int MAX_CACHED_CHARS = 4096;

        boolean busy;
        boolean forceQueue;
        char[] chars = new char[3 * 64];
        int[] ids = new int[3 * 64];
        int[] slots = new int[3 * 64];
        int[] prev = new int[0];
        int[] next = new int[0];
        long[] heap = new long[0];

        /** Loads the word's byte-level characters; returns the byte count. */
        int load(String word) {
            int max = 3 * word.length();
            if (chars.length < max) {
                chars = new char[max];
                ids = new int[max];
                slots = new int[max];
            }
            return byteLevelChars(word, chars);
        }

        void ensureLarge(int n) {
            if (prev.length < n) {
                prev = new int[n];
                next = new int[n];
            }
            // every merge pushes at most two pairs and pops one
            if (heap.length < 3 * n) heap = new long[3 * n];
        }
    }

    /** Token text to id, looked up by a char array without building a string. */
    private static final class TokenTable {
        private final String[] keys;
        private final int[] values;
        private final int mask;
        private final int shift;

        /** Empty tokens are left out (llama.cpp renames them, so they never match text). */
        TokenTable(String[] tokens) {
            int cap = Integer.highestOneBit(Math.max(16, tokens.length * 2 + 1) - 1) << 1;
            keys = new String[cap];
            values = new int[cap];
            mask = cap - 1;
            shift = 32 - Integer.numberOfTrailingZeros(cap);
            for (int id = 0; id < tokens.length; id++) {
                String t = tokens[id];
                if (t == null || t.isEmpty()) continue;
                int i = spread(t.hashCode());
                while (keys[i] != null && !keys[i].equals(t)) i = (i + 1) & mask;
                keys[i] = t;
                values[i] = id; // a later duplicate replaces an earlier one
            }
        }

        /** Fibonacci hashing: String hash codes of short strings crowd together in the low bits. */
        private int spread(int h) {
            return (h * 0x9E3779B9) >>> shift;
        }

        /** The id of the token spelled by {@code chars[off..off+n)}, or -1. */
        int get(char[] chars, int off, int n) {
            int h = 0;
            for (int i = 0; i < n; i++) h = 31 * h + chars[off + i];
            int i = spread(h);
            String k;
            while ((k = keys[i]) != null) {
                if (k.length() == n && matches(k, chars, off, n)) return values[i];
                i = (i + 1) & mask;
            }
            return -1;
        }

        private static boolean matches(String k, char[] chars, int off, int n) {
            for (int j = 0; j < n; j++) if (k.charAt(j) != chars[off + j]) return false;
            return true;
        }
    }

    /** Open-addressing map from a symbol pair to its merge rank and merged symbol. */
    private static final class PairTable {
        private final long[] keys;
        final int[] ranks;
        final int[] merged;
        private final int mask;

        PairTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1) - 1) << 1;
            keys = new long[cap];
            ranks = new int[cap];
            merged = new int[cap];
            Arrays.fill(ranks, -1);
            mask = cap - 1;
        }

        private int slot(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h >>> 40) & mask;
        }

        void put(int left, int right, int rank, int mergedId) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int i = slot(key);
            while (ranks[i] >= 0 && keys[i] != key) i = (i + 1) & mask;
            keys[i] = key;
            ranks[i] = rank;
            merged[i] = mergedId;
        }

        /** The slot of the pair, or -1 when the pair has no merge. */
        int find(int left, int right) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int i = slot(key);
            while (ranks[i] >= 0) {
                if (keys[i] == key) return i;
                i = (i + 1) & mask;
            }
            return -1;
        }
    }
}

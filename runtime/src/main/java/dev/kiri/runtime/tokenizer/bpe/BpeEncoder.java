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
 * <p>Immutable after construction and safe for concurrent use; {@link #encode} allocates only
 * scratch arrays proportional to the word.
 */
public final class BpeEncoder {
    private final int vocabSize;
    private final boolean ignoreMerges;
    /** Token text to id; for duplicate texts the last id wins, as in llama.cpp. */
    private final Map<String, Integer> tokenIds;
    /** Id of the single-character symbol for each byte (a synthetic id when not a token). */
    private final int[] byteSymbol = new int[256];
    /** Texts of symbols that are not vocabulary entries, indexed by {@code id - vocabSize}. */
    private final String[] syntheticTexts;
    /** Token id of each printable ASCII character, or -1. */
    private final int[] asciiToken = new int[128];
    private final PairTable pairs;

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
        this.tokenIds = new HashMap<>(tokens.length * 2);
        for (int i = 0; i < tokens.length; i++) {
            String t = tokens[i];
            if (t == null || t.isEmpty()) continue; // llama.cpp renames empty tokens; they never match
            tokenIds.put(t, i);
        }
        Map<String, Integer> synthetic = new HashMap<>();
        List<String> syntheticList = new ArrayList<>();
        Interner interner = text -> {
            Integer id = tokenIds.get(text);
            if (id != null) return id;
            return synthetic.computeIfAbsent(text, k -> {
                syntheticList.add(k);
                return vocabSize + syntheticList.size() - 1;
            });
        };
        for (int b = 0; b < 256; b++) byteSymbol[b] = interner.intern(String.valueOf(ByteLevel.charOf(b)));
        Arrays.fill(asciiToken, -1);
        for (int c = 0x21; c < 0x7F; c++) {
            Integer id = tokenIds.get(String.valueOf((char) c));
            if (id != null) asciiToken[c] = id;
        }
        this.pairs = new PairTable(merges.length);
        for (int rank = 0; rank < merges.length; rank++) {
            String m = merges[rank];
            int space = m == null ? -1 : m.indexOf(' ', 1);
            if (space < 0 || space == m.length() - 1) {
                throw new IllegalArgumentException("tokenizer.ggml.merges[" + rank + "] is not two parts separated by"
                        + " a space: " + (m == null ? "null" : "'" + m + "'"));
            }
            String left = m.substring(0, space);
            String right = m.substring(space + 1);
            int l = interner.intern(left);
            int r = interner.intern(right);
            if (pairs.rank(l, r) >= 0) continue; // the first occurrence of a pair wins
            pairs.put(l, r, rank, interner.intern(left + right));
        }
        this.syntheticTexts = syntheticList.toArray(new String[0]);
    }

    private interface Interner {
        int intern(String text);
    }

    /** Number of vocabulary entries. */
    public int vocabularySize() {
        return vocabSize;
    }

    /** The id of a vocabulary entry, or -1. */
    public int tokenId(String text) {
        Integer id = tokenIds.get(text);
        return id == null ? -1 : id;
    }

    /**
     * Encodes one pre-token (raw text, not byte-level characters) and passes its ids to
     * {@code sink} in order. A lone surrogate is encoded as U+FFFD. The empty word gives no ids.
     */
    public void encode(String word, IntConsumer sink) {
        byte[] bytes = utf8(word);
        int n = bytes.length;
        if (n == 0) return;
        if (ignoreMerges || n == 1) {
            if (n == 1) {
                emit(byteSymbol[bytes[0] & 0xFF], sink);
                return;
            }
            Integer whole = tokenIds.get(ByteLevel.encode(bytes));
            if (whole != null) {
                sink.accept(whole);
                return;
            }
        }
        int[] id = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] pairRank = new int[n];
        for (int i = 0; i < n; i++) {
            id[i] = byteSymbol[bytes[i] & 0xFF];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        long[] heap = new long[Math.max(4, 3 * n)];
        int size = 0;
        for (int i = 0; i + 1 < n; i++) {
            int r = pairs.rank(id[i], id[i + 1]);
            pairRank[i] = r;
            if (r >= 0) size = push(heap, size, key(r, i));
        }
        pairRank[n - 1] = -1;
        while (size > 0) {
            long top = heap[0];
            size = pop(heap, size);
            int left = (int) top;
            int rank = (int) (top >>> 32);
            if (id[left] < 0 || pairRank[left] != rank) continue; // stale
            int right = next[left];
            id[left] = pairs.merged(id[left], id[right]);
            id[right] = -1;
            int after = next[right];
            next[left] = after;
            if (after >= 0) prev[after] = left;
            if (heap.length - size < 2) heap = Arrays.copyOf(heap, heap.length * 2);
            int p = prev[left];
            if (p >= 0) {
                int r = pairs.rank(id[p], id[left]);
                pairRank[p] = r;
                if (r >= 0) size = push(heap, size, key(r, p));
            }
            if (after >= 0) {
                int r = pairs.rank(id[left], id[after]);
                pairRank[left] = r;
                if (r >= 0) size = push(heap, size, key(r, left));
            } else {
                pairRank[left] = -1;
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
        int[][] box = {new int[8]};
        int[] count = {0};
        encode(word, id -> {
            if (count[0] == box[0].length) box[0] = Arrays.copyOf(box[0], count[0] * 2);
            box[0][count[0]++] = id;
        });
        return Arrays.copyOf(box[0], count[0]);
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
        int len = s.length();
        byte[] out = new byte[len * 3];
        int o = 0;
        for (int i = 0; i < len; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                out[o++] = (byte) c;
            } else if (c < 0x800) {
                out[o++] = (byte) (0xC0 | (c >> 6));
                out[o++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < len && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                out[o++] = (byte) (0xF0 | (cp >> 18));
                out[o++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                if (Character.isSurrogate(c)) c = '\uFFFD';
                out[o++] = (byte) (0xE0 | (c >> 12));
                out[o++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                out[o++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return o == out.length ? out : Arrays.copyOf(out, o);
    }

    /** Open-addressing map from a symbol pair to its merge rank and merged symbol. */
    private static final class PairTable {
        private final long[] keys;
        private final int[] ranks;
        private final int[] merged;
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

        int rank(int left, int right) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int i = slot(key);
            while (ranks[i] >= 0) {
                if (keys[i] == key) return ranks[i];
                i = (i + 1) & mask;
            }
            return -1;
        }

        int merged(int left, int right) {
            long key = ((long) left << 32) | (right & 0xFFFFFFFFL);
            int i = slot(key);
            while (keys[i] != key) i = (i + 1) & mask;
            return merged[i];
        }
    }
}

package dev.kiri.runtime.tokenizer;

import java.util.Arrays;

/**
 * Token text to id, looked up by a range of a {@code char[]} without building a string (the
 * SentencePiece merge loop asks for every adjacent pair). Open addressing with linear probing
 * over a power-of-two table of ids; immutable after construction, so safe to share.
 */
final class TokenIndex {
    private final String[] texts;
    private final int[] table;
    private final int mask;

    /**
     * @param texts token texts by id; an id whose text is null is not indexed. When a text occurs
     *              twice, the first id is kept (the caller reports duplicates).
     */
    TokenIndex(String[] texts) {
        this.texts = texts;
        int cap = Integer.highestOneBit(Math.max(4, texts.length * 2 - 1)) << 1;
        this.table = new int[cap];
        this.mask = cap - 1;
        Arrays.fill(table, -1);
        for (int id = 0; id < texts.length; id++) {
            String t = texts[id];
            if (t == null) continue;
            int slot = hash(t) & mask;
            while (table[slot] >= 0) {
                if (texts[table[slot]].equals(t)) break;
                slot = (slot + 1) & mask;
            }
            if (table[slot] < 0) table[slot] = id;
        }
    }

    /** The id of the token whose text is {@code s}, or -1. */
    int find(String s) {
        int slot = hash(s) & mask;
        for (int id; (id = table[slot]) >= 0; slot = (slot + 1) & mask) {
            if (texts[id].equals(s)) return id;
        }
        return -1;
    }

    /** The id of the token whose text is {@code buf[off, off+len)}, or -1. */
    int find(char[] buf, int off, int len) {
        int slot = hash(buf, off, len) & mask;
        for (int id; (id = table[slot]) >= 0; slot = (slot + 1) & mask) {
            String t = texts[id];
            if (t.length() == len && same(t, buf, off, len)) return id;
        }
        return -1;
    }

    private static boolean same(String t, char[] buf, int off, int len) {
        for (int i = 0; i < len; i++) {
            if (t.charAt(i) != buf[off + i]) return false;
        }
        return true;
    }

    private static int hash(String s) {
        int h = 0;
        for (int i = 0, n = s.length(); i < n; i++) h = 31 * h + s.charAt(i);
        return mix(h);
    }

    private static int hash(char[] buf, int off, int len) {
        int h = 0;
        for (int i = off, end = off + len; i < end; i++) h = 31 * h + buf[i];
        return mix(h);
    }

    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        return h ^ (h >>> 16);
    }
}

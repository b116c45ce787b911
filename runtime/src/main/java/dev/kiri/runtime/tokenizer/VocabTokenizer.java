package dev.kiri.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;

/**
 * What the SentencePiece and BPE tokenizers share: special-token partitioning, BOS/EOS, the
 * per-token byte pieces and {@code llama_detokenize}-style decoding. A subclass only turns one
 * run of plain text into ids.
 */
abstract class VocabTokenizer implements Tokenizer {
    private static final byte[] EMPTY = new byte[0];

    final Vocabulary vocab;
    /** Each token's bytes as decoded with special = true (llama.cpp's piece cache). */
    private final byte[][] pieces;
    /** Whether a token's piece is hidden when special = false (control and unknown tokens). */
    private final boolean[] hidden;
    /** The special tokens' texts, to find which of them a text contains in one pass. */
    private final SpecialTrie specialTrie;

    VocabTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        int n = vocab.size();
        this.pieces = new byte[n][];
        this.hidden = new boolean[n];
        for (int id = 0; id < n; id++) {
            int attr = vocab.attributes(id);
            hidden[id] = (attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL)) != 0;
            byte[] p;
            if ((attr & (TokenAttr.UNKNOWN | TokenAttr.CONTROL | TokenAttr.USER_DEFINED)) != 0) {
                p = vocab.token(id).getBytes(StandardCharsets.UTF_8);
            } else if ((attr & TokenAttr.NORMAL) != 0) {
                p = normalPiece(vocab.token(id));
            } else if ((attr & TokenAttr.BYTE) != 0) {
                p = bytePiece(vocab.token(id), id);
            } else {
                p = EMPTY; // unused and undefined tokens print nothing
            }
            pieces[id] = p;
        }
        int[] special = vocab.specialTokens();
        String[] texts = new String[special.length];
        for (int k = 0; k < special.length; k++) texts[k] = vocab.token(special[k]);
        this.specialTrie = new SpecialTrie(texts);
    }

    /** The bytes of a normal token: {@code ▁} to space (SentencePiece) or byte-level code points to bytes (BPE). */
    abstract byte[] normalPiece(String text);

    /** Appends the ids of one run of plain text (no special tokens in it). */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** The byte of a {@code <0xXX>} token. */
    final byte[] bytePiece(String text, int id) {
        if (text.length() == 6 && text.startsWith("<0x") && text.charAt(5) == '>') {
            int hi = Character.digit(text.charAt(3), 16);
            int lo = Character.digit(text.charAt(4), 16);
            if (hi >= 0 && lo >= 0) return new byte[] {(byte) (hi << 4 | lo)};
        }
        throw new IllegalArgumentException(vocab.source() + ": metadata " + Vocabulary.KEY_TOKENS + ": byte token "
                + id + " is " + Vocabulary.quote(text) + ", expected the form <0xXX>");
    }

    @Override
    public final int vocabularySize() {
        return vocab.size();
    }

    /** The vocabulary this tokenizer was built from. */
    public final Vocabulary vocabulary() {
        return vocab;
    }

    @Override
    public final int bos() {
        return vocab.bos();
    }

    @Override
    public final boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    @Override
    public final String piece(int id) {
        return vocab.token(id);
    }

    @Override
    public final boolean stripsLeadingSpace() {
        return vocab.addSpacePrefix();
    }

    @Override
    public final boolean cleansSpaces() {
        return vocab.cleanSpaces();
    }

    @Override
    public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        String s = Texts.replaceLoneSurrogates(text);
        IntList out = new IntList(s.length() / 3 + 4);
        if (addSpecial && vocab.addBos()) out.add(vocab.bos());
        if (!s.isEmpty()) {
            Fragments f = partition(s, parseSpecial);
            boolean afterSpecial = true; // the start of the text counts as after a special token
            for (int i = 0; i < f.size; i++) {
                if (f.token[i] >= 0) {
                    out.add(f.token[i]);
                    afterSpecial = true;
                } else {
                    encodeText(s.substring(f.start[i], f.end[i]), afterSpecial, out);
                    afterSpecial = false;
                }
            }
        }
        if (addSpecial && vocab.addEos()) out.add(vocab.eos());
        return out.toArray();
    }

    /**
     * Splits text on special tokens the way llama.cpp does: each special token in turn (longest
     * first) cuts every plain-text fragment at each of its occurrences. Control and unknown
     * tokens take part only when {@code parseSpecial}; user-defined tokens always do.
     */
    private Fragments partition(String s, boolean parseSpecial) {
        Fragments cur = new Fragments(4);
        cur.addText(0, s.length());
        Fragments next = new Fragments(4);
        // only tokens that occur somewhere in the text can cut a fragment of it
        BitSet present = new BitSet();
        specialTrie.occurring(s, present);
        int[] special = vocab.specialTokens();
        for (int k = present.nextSetBit(0); k >= 0; k = present.nextSetBit(k + 1)) {
            int id = special[k];
            int attr = vocab.attributes(id);
            if (!parseSpecial && (attr & (TokenAttr.CONTROL | TokenAttr.UNKNOWN)) != 0) continue;
            String t = vocab.token(id);
            next.size = 0;
            boolean changed = false;
            for (int i = 0; i < cur.size; i++) {
                if (cur.token[i] >= 0) {
                    next.addToken(cur.token[i]);
                    continue;
                }
                int from = cur.start[i];
                int end = cur.end[i];
                int m;
                while (from < end && (m = s.indexOf(t, from)) >= 0 && m + t.length() <= end) {
                    changed = true;
                    int leftEnd = m;
                    if ((attr & TokenAttr.LSTRIP) != 0) {
                        while (leftEnd > from && Texts.isCSpace(s.charAt(leftEnd - 1))) leftEnd--;
                    }
                    if (leftEnd > from) next.addText(from, leftEnd);
                    next.addToken(id);
                    from = m + t.length();
                    if ((attr & TokenAttr.RSTRIP) != 0) {
                        while (from < end && Texts.isCSpace(s.charAt(from))) from++;
                    }
                }
                if (from < end) next.addText(from, end);
            }
            if (changed) {
                Fragments tmp = cur;
                cur = next;
                next = tmp;
            }
        }
        return cur;
    }

    /** Plain-text ranges and special tokens in order; {@code token[i] < 0} marks text. */
    private static final class Fragments {
        int[] start;
        int[] end;
        int[] token;
        int size;

        Fragments(int cap) {
            start = new int[cap];
            end = new int[cap];
            token = new int[cap];
        }

        void addText(int s, int e) {
            add(s, e, -1);
        }

        void addToken(int id) {
            add(0, 0, id);
        }

        private void add(int s, int e, int id) {
            if (size == start.length) {
                int cap = size * 2;
                start = Arrays.copyOf(start, cap);
                end = Arrays.copyOf(end, cap);
                token = Arrays.copyOf(token, cap);
            }
            start[size] = s;
            end[size] = e;
            token[size] = id;
            size++;
        }
    }

    @Override
    public final byte[] tokenBytes(int id, boolean special) {
        return pieceBytes(id, special).clone();
    }

    /** The shared, unmodifiable-by-contract piece bytes of a token (no copy: for the decoders). */
    final byte[] pieceBytes(int id, boolean special) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException(vocab.source() + ": token id " + id + " is outside the vocabulary of "
                    + pieces.length + " tokens");
        }
        return !special && hidden[id] ? EMPTY : pieces[id];
    }

    @Override
    public final String decode(int[] ids, boolean special) {
        return new String(decodeBytes(ids, special), StandardCharsets.UTF_8);
    }

    /** llama.cpp's {@code llama_detokenize} with remove_special = false: the bytes of the text. */
    final byte[] decodeBytes(int[] ids, boolean special) {
        int total = 0;
        for (int id : ids) total += pieceBytes(id, special).length;
        byte[] out = new byte[total];
        int n = 0;
        boolean removeSpace = vocab.addSpacePrefix();
        for (int id : ids) {
            byte[] p = pieceBytes(id, special);
            int from = removeSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
            removeSpace = false;
            System.arraycopy(p, from, out, n, p.length - from);
            n += p.length - from;
        }
        if (vocab.cleanSpaces()) n = Texts.cleanSpaces(out, n);
        return n == out.length ? out : Arrays.copyOf(out, n);
    }
}

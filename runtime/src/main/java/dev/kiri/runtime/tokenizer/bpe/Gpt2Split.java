package dev.kiri.runtime.tokenizer.bpe;

import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.CATEGORY_MASK;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.LETTER;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.NUMBER;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.WHITESPACE;

/**
 * GPT-2's split, {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+},
 * as a single left-to-right scan (llama.cpp also runs this regex through a hand-written matcher).
 * The contractions are lower-case only. Linear in the length of the piece.
 */
final class Gpt2Split implements SplitStep {
    static final Gpt2Split INSTANCE = new Gpt2Split();

    private Gpt2Split() {
    }

    @Override
    public void split(Segments s, int from, int to, Segments.Boundaries out) {
        int[] cps = s.cps;
        int pos = from;
        while (pos < to) {
            int cp = cps[pos];
            if (cp == '\'' && pos + 1 < to) {
                int c1 = cps[pos + 1];
                if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                    pos += 2;
                    out.add(pos);
                    continue;
                }
                if (pos + 2 < to) {
                    int c2 = cps[pos + 2];
                    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                        pos += 3;
                        out.add(pos);
                        continue;
                    }
                }
            }
            // an optional leading space, then a run of one class
            int first = cp == ' ' ? pos + 1 : pos;
            if (first < to) {
                int f = CodepointClass.of(cps[first]);
                int cat = f & CATEGORY_MASK;
                if (cat == LETTER || cat == NUMBER) {
                    int e = first + 1;
                    while (e < to && (CodepointClass.of(cps[e]) & CATEGORY_MASK) == cat) e++;
                    out.add(e);
                    pos = e;
                    continue;
                }
                if ((f & WHITESPACE) == 0) {
                    int e = first + 1;
                    while (e < to && isOther(CodepointClass.of(cps[e]))) e++;
                    out.add(e);
                    pos = e;
                    continue;
                }
            }
            int k = 0;
            while (pos + k < to && CodepointClass.isWhitespace(cps[pos + k])) k++;
            if (k > 1 && pos + k < to) {
                pos += k - 1; // \s+(?!\S): leave the last one to the word that follows
            } else if (k > 0) {
                pos += k;
            } else {
                pos++;
            }
            out.add(pos);
        }
    }

    /** {@code [^\s\p{L}\p{N}]}. */
    static boolean isOther(int f) {
        int cat = f & CATEGORY_MASK;
        return (f & WHITESPACE) == 0 && cat != LETTER && cat != NUMBER;
    }
}

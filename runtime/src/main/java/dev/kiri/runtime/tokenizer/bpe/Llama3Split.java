package dev.kiri.runtime.tokenizer.bpe;

import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.CATEGORY_MASK;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.LETTER;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.NUMBER;

/**
 * The Llama 3 split, {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+},
 * as a single left-to-right scan (llama.cpp also hand-writes this one). With
 * {@code maxDigits = 1} it is Qwen2's regex ({@code \p{N}} instead of {@code \p{N}{1,3}}), which
 * llama.cpp runs through its generic regex engine with the same result. Linear in the length of
 * the piece.
 */
final class Llama3Split implements SplitStep {
    static final Llama3Split LLAMA3 = new Llama3Split(3);
    static final Llama3Split QWEN2 = new Llama3Split(1);

    private final int maxDigits;

    private Llama3Split(int maxDigits) {
        this.maxDigits = maxDigits;
    }

    @Override
    public void split(Segments s, int from, int to, Segments.Boundaries out) {
        int[] cps = s.cps;
        int pos = from;
        while (pos < to) {
            int cp = cps[pos];
            if (cp == '\'' && pos + 1 < to) {
                int c1 = asciiLower(cps[pos + 1]);
                if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                    pos += 2;
                    out.add(pos);
                    continue;
                }
                if (pos + 2 < to) {
                    int c2 = asciiLower(cps[pos + 2]);
                    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                        pos += 3;
                        out.add(pos);
                        continue;
                    }
                }
            }
            int f = CodepointClass.of(cp);
            int cat = f & CATEGORY_MASK;
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if (cp != '\r' && cp != '\n' && cat != NUMBER) {
                if (cat == LETTER || (pos + 1 < to && CodepointClass.isLetter(cps[pos + 1]))) {
                    int e = pos + 1;
                    while (e < to && CodepointClass.isLetter(cps[e])) e++;
                    out.add(e);
                    pos = e;
                    continue;
                }
            }
            // \p{N}{1,maxDigits}
            if (cat == NUMBER) {
                int e = pos;
                while (e < to && CodepointClass.isNumber(cps[e])) {
                    e++;
                    if (e - pos == maxDigits) {
                        out.add(e);
                        pos = e;
                    }
                }
                out.add(e);
                pos = e;
                continue;
            }
            //  ?[^\s\p{L}\p{N}]+[\r\n]*
            int first = cp == ' ' ? pos + 1 : pos;
            if (first >= to || Gpt2Split.isOther(CodepointClass.of(cps[first]))) {
                int e = first;
                while (e < to && Gpt2Split.isOther(CodepointClass.of(cps[e]))) e++;
                while (e < to && (cps[e] == '\r' || cps[e] == '\n')) e++;
                out.add(e);
                pos = e;
                continue;
            }
            // \s*[\r\n]+ | \s+(?!\S) | \s+
            int k = 0;
            int afterNewline = -1;
            while (pos + k < to && CodepointClass.isWhitespace(cps[pos + k])) {
                int c = cps[pos + k];
                k++;
                if (c == '\r' || c == '\n') afterNewline = pos + k;
            }
            if (afterNewline > 0) {
                pos = afterNewline;
            } else if (k > 1 && pos + k < to) {
                pos += k - 1;
            } else if (k > 0) {
                pos += k;
            } else {
                pos++;
            }
            out.add(pos);
        }
    }

    private static int asciiLower(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
}

package dev.kiri.runtime.tokenizer.bpe;

import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.CATEGORY_MASK;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.LETTER;
import static dev.kiri.runtime.tokenizer.bpe.CodepointClass.NUMBER;

/**
 * The GPT-4o / Llama 4 split and Mistral's Tekken split as a single left-to-right scan. llama.cpp
 * rewrites their case classes as lookaheads, {@code [^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+<c>?
 * |[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*<c>?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * ({@code <c>}: the contractions, any case; Tekken has none and {@code \p{N}} single digits), and
 * runs them through its generic engine, which sees every non-ASCII letter as the same stand-in:
 * such a letter counts as upper case ({@code [^a-z]}) and as lower case ({@code [^A-Z]}) at once.
 * This scan reproduces that engine's backtracking result in one pass.
 */
final class Gpt4oSplit implements SplitStep {
    static final Gpt4oSplit GPT4O = new Gpt4oSplit(true, 3);
    static final Gpt4oSplit TEKKEN = new Gpt4oSplit(false, 1);

    private final boolean contractions;
    private final int maxDigits;

    private Gpt4oSplit(boolean contractions, int maxDigits) {
        this.contractions = contractions;
        this.maxDigits = maxDigits;
    }

    /** A letter that {@code [^a-z]} accepts. */
    private static boolean upper(int cp) {
        return CodepointClass.isLetter(cp) && !(cp >= 'a' && cp <= 'z');
    }

    /** A letter that {@code [^A-Z]} accepts. */
    private static boolean lower(int cp) {
        return CodepointClass.isLetter(cp) && !(cp >= 'A' && cp <= 'Z');
    }

    @Override
    public void split(Segments s, int from, int to, Segments.Boundaries out) {
        int[] cps = s.cps;
        int pos = from;
        while (pos < to) {
            int cp = cps[pos];
            int cat = CodepointClass.of(cp) & CATEGORY_MASK;
            int word = -1; // where the letters start
            if (cat == LETTER) {
                word = pos;
            } else if (cp != '\r' && cp != '\n' && cat != NUMBER && pos + 1 < to && CodepointClass.isLetter(cps[pos + 1])) {
                word = pos + 1; // with the optional leading character
            }
            if (word >= 0) {
                int p = word;
                while (p < to && upper(cps[p])) p++;
                int end;
                if (p < to && lower(cps[p])) {
                    // upper* then lower+
                    end = p + 1;
                    while (end < to && lower(cps[end])) end++;
                } else {
                    // backtrack the upper run to its last letter that is also lower case
                    int k = p - 1;
                    while (k >= word && !lower(cps[k])) k--;
                    end = k >= word ? k + 1 : p; // upper*lower+ ending there, else upper+
                }
                if (contractions) end = contraction(cps, end, to);
                out.add(end);
                pos = end;
                continue;
            }
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
            //  ?[^\s\p{L}\p{N}]+[\r\n/]*
            int first = cp == ' ' ? pos + 1 : pos;
            if (first < to && Gpt2Split.isOther(CodepointClass.of(cps[first]))) {
                int e = first;
                while (e < to && Gpt2Split.isOther(CodepointClass.of(cps[e]))) e++;
                while (e < to && (cps[e] == '\r' || cps[e] == '\n' || cps[e] == '/')) e++;
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

    /** {@code end} moved past {@code (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?}. */
    private static int contraction(int[] cps, int end, int to) {
        if (end + 1 >= to || cps[end] != '\'') return end;
        int c1 = lowerAscii(cps[end + 1]);
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return end + 2;
        if (end + 2 < to) {
            int c2 = lowerAscii(cps[end + 2]);
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return end + 3;
        }
        return end;
    }

    private static int lowerAscii(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }
}

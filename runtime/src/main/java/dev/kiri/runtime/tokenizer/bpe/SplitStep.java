package dev.kiri.runtime.tokenizer.bpe;

/** One regex of a pre-tokenizer's list: splits the piece {@code [from, to)} further. */
interface SplitStep {
    /**
     * Appends to {@code out} the ends of the pieces {@code [from, to)} splits into: the matches
     * and the unmatched text between them, in order, the last ending at {@code to}.
     */
    void split(Segments s, int from, int to, Segments.Boundaries out);
}

package dev.kiri.runtime.tokenizer.bpe;

/**
 * {@code \s+$}: splits off the whitespace at the end of the piece. Written out because a regex
 * engine retries {@code \s+} from every position of a long whitespace run that is followed by
 * something else, which is quadratic.
 */
final class TrailingWhitespaceSplit implements SplitStep {
    static final TrailingWhitespaceSplit INSTANCE = new TrailingWhitespaceSplit();

    private TrailingWhitespaceSplit() {
    }

    @Override
    public void split(Segments s, int from, int to, Segments.Boundaries out) {
        int start = to;
        while (start > from && CodepointClass.isWhitespace(s.cps[start - 1])) start--;
        out.add(start);
        out.add(to);
    }
}

package dev.kiri.runtime.tokenizer.bpe;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A regex of a pre-tokenizer's list run the way llama.cpp's fallback engine runs it. A regex
 * that uses Unicode classes ({@code \p{L}}, {@code \p{N}}, {@code \p{P}}, …) runs on the
 * collapsed text, one stand-in character per code point, with each class rewritten as its
 * stand-in plus its ASCII members ({@link CodepointClass#collapsed}); a regex without them runs
 * on the text with non-ASCII whitespace replaced by U+000B. {@code \s} is then ASCII
 * whitespace plus U+000B in both cases.
 *
 * <p>Only used for patterns that cannot backtrack badly: character classes with {@code +} or
 * fixed repeats, no nested quantifiers.
 */
final class RegexSplit implements SplitStep {
    /** Collapsed {@code \p{L}} members, for use inside a character class. */
    static final String L = "\\x{D2}A-Za-z";
    /** Collapsed {@code \p{N}} members. */
    static final String N = "\\x{D1}0-9";
    /** Collapsed {@code \p{P}} members: the stand-in and ASCII punctuation. */
    static final String P = "\\x{D3}!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";

    private final Pattern pattern;
    private final boolean collapsed;
    private final String source;

    private RegexSplit(String javaRegex, boolean collapsed, String source) {
        this.pattern = Pattern.compile(javaRegex);
        this.collapsed = collapsed;
        this.source = source;
    }

    /** A regex over the collapsed text; {@code source} is llama.cpp's form, for messages. */
    static RegexSplit collapsed(String javaRegex, String source) {
        return new RegexSplit(javaRegex, true, source);
    }

    /** A regex over the text itself (non-ASCII whitespace as U+000B). */
    static RegexSplit wide(String javaRegex, String source) {
        return new RegexSplit(javaRegex, false, source);
    }

    @Override
    public void split(Segments s, int from, int to, Segments.Boundaries out) {
        if (collapsed) {
            Matcher m = pattern.matcher(s.collapsed());
            m.region(from, to);
            while (m.find()) {
                out.add(m.start());
                out.add(m.end());
            }
        } else {
            Matcher m = pattern.matcher(s.wide());
            m.region(s.charStart[from], s.charStart[to]);
            while (m.find()) {
                out.add(s.cpIndexOfChar(m.start()));
                out.add(s.cpIndexOfChar(m.end()));
            }
        }
        out.add(to);
    }

    @Override
    public String toString() {
        return source;
    }
}

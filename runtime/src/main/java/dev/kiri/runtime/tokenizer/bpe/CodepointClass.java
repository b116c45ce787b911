package dev.kiri.runtime.tokenizer.bpe;

/**
 * The character classes the pre-tokenizer regexes use, defined the way llama.cpp's Unicode
 * tables define them: one general category per code point ({@code \p{L}}, {@code \p{N}},
 * {@code \p{P}}, {@code \p{S}}, {@code \p{M}}, separators, "control" for Cc/Cf/Co/Cs, and
 * "undefined" for unassigned code points) plus a whitespace bit for exactly the Unicode
 * {@code White_Space} code points (U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680,
 * U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). Categories come from the JDK's
 * Unicode tables.
 */
final class CodepointClass {
    static final int UNDEFINED = 0;
    static final int CONTROL = 1;
    static final int LETTER = 2;
    static final int NUMBER = 3;
    static final int PUNCTUATION = 4;
    static final int MARK = 5;
    static final int SYMBOL = 6;
    static final int SEPARATOR = 7;
    static final int CATEGORY_MASK = 0x0F;
    static final int WHITESPACE = 0x10;

    private static final byte[] BMP = new byte[0x10000];

    static {
        for (int cp = 0; cp < 0x10000; cp++) BMP[cp] = (byte) compute(cp);
    }

    private CodepointClass() {
    }

    /** Category in the low 4 bits, {@link #WHITESPACE} on top. */
    static int of(int cp) {
        return cp < 0x10000 ? BMP[cp] : compute(cp);
    }

    static boolean isLetter(int cp) {
        return (of(cp) & CATEGORY_MASK) == LETTER;
    }

    static boolean isNumber(int cp) {
        return (of(cp) & CATEGORY_MASK) == NUMBER;
    }

    static boolean isWhitespace(int cp) {
        return (of(cp) & WHITESPACE) != 0;
    }

    private static int compute(int cp) {
        int cat = switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                 Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            default -> UNDEFINED;
        };
        return cat | (whiteSpace(cp) ? WHITESPACE : 0);
    }

    private static boolean whiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F
                || cp == 0x205F || cp == 0x3000;
    }

    /**
     * The one character llama.cpp's regex fallback sees for a code point: ASCII stays as it is,
     * other code points collapse to a stand-in for their class (whitespace to U+000B, letters to
     * U+00D2, numbers U+00D1, punctuation U+00D3, marks U+00D4, symbols U+00D5, anything else
     * U+00D0).
     */
    static char collapsed(int cp) {
        if (cp < 128) return (char) cp;
        int f = of(cp);
        if ((f & WHITESPACE) != 0) return '\u000B';
        return switch (f & CATEGORY_MASK) {
            case NUMBER -> '\u00D1';
            case LETTER -> '\u00D2';
            case PUNCTUATION -> '\u00D3';
            case MARK -> '\u00D4';
            case SYMBOL -> '\u00D5';
            default -> '\u00D0';
        };
    }
}

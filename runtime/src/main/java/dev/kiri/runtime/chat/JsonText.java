package dev.kiri.runtime.chat;

/**
 * JSON string literals as Python's {@code json.dumps(..., ensure_ascii=False)} writes them: quote,
 * backslash and the control characters escaped ({@code \b \f \n \r \t} by name, the rest as
 * a backslash-u escape of four hex digits), everything else, non-ASCII included, as is. Used by the templates' {@code tojson}
 * and by the CLI's JSON output.
 */
public final class JsonText {
    private JsonText() {
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void appendQuoted(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}

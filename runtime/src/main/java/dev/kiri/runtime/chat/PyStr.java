package dev.kiri.runtime.chat;

import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.objects.SafeString;

/**
 * Python's {@code str()} and {@code repr()} of template values, for what a template prints
 * ({@code {{ x }}}, {@code ~}, {@code |string}): {@code True}/{@code False}, {@code None} inside
 * containers, lists as {@code ['a', 1]}, dicts as {@code {'k': None}}, pairs as tuples
 * {@code ('k', 1)}, floats as {@code repr(float)}. A null at the top level prints as nothing, as an
 * undefined value does in Jinja2 (Jinjava does not tell undefined from None).
 */
final class PyStr {
    private PyStr() {
    }

    static String str(Object o) {
        if (o == null) return "";
        if (o instanceof String s) return s;
        if (o instanceof SafeString s) return s.getValue();
        if (o instanceof CharSequence s) return s.toString();
        if (o instanceof Boolean || o instanceof Number || o instanceof Map<?, ?> || o instanceof Map.Entry<?, ?>
                || o instanceof List<?> || o instanceof Object[]) {
            return repr(o);
        }
        return o.toString();
    }

    static String repr(Object o) {
        StringBuilder sb = new StringBuilder();
        repr(sb, o, 0);
        return sb.toString();
    }

    private static void repr(StringBuilder sb, Object o, int depth) {
        if (depth > 256) {
            sb.append("...");
            return;
        }
        if (o == null || o == PyNone.NONE) {
            sb.append("None");
        } else if (o instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (o instanceof Number n) {
            sb.append(PyJson.number(n));
        } else if (o instanceof SafeString s) {
            sb.append("Markup(");
            quote(sb, s.getValue());
            sb.append(')');
        } else if (o instanceof CharSequence s) {
            quote(sb, s.toString());
        } else if (o instanceof Map.Entry<?, ?> e) {
            sb.append('(');
            repr(sb, e.getKey(), depth + 1);
            sb.append(", ");
            repr(sb, e.getValue(), depth + 1);
            sb.append(')');
        } else if (o instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(", ");
                first = false;
                repr(sb, e.getKey(), depth + 1);
                sb.append(": ");
                repr(sb, e.getValue(), depth + 1);
            }
            sb.append('}');
        } else {
            List<?> list = o instanceof List<?> l ? l : PyJson.asList(o);
            if (list == null) {
                sb.append(o);
                return;
            }
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) sb.append(", ");
                repr(sb, list.get(i), depth + 1);
            }
            sb.append(']');
        }
    }

    /** Python's string repr: single quotes unless the text has one and no double quote. */
    private static void quote(StringBuilder sb, String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c == q || c == '\\') {
                sb.append('\\').appendCodePoint(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c != ' ' && !printable(c)) {
                if (c <= 0xFF) sb.append(String.format("\\x%02x", c));
                else if (c <= 0xFFFF) sb.append(String.format("\\u%04x", c));
                else sb.append(String.format("\\U%08x", c));
            } else {
                sb.appendCodePoint(c);
            }
        }
        sb.append(q);
    }

    /** Python's {@code str.isprintable} for one code point (space separators other than ' ' are not). */
    private static boolean printable(int c) {
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }
}

package dev.kiri.runtime.chat;

import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.objects.SafeString;
import jinjava.de.odysseus.el.misc.TypeConverter;

/**
 * {@code +} as Jinja2 evaluates it when one side is a {@code |safe} string (Python's
 * {@code markupsafe.Markup}): the other side is HTML-escaped ({@code & < > " '} become
 * {@code &amp; &lt; &gt; &#34; &#39;}) and the result stays safe. Chat templates are rendered without
 * autoescaping, so this is the only place escaping happens, and some templates depend on it
 * ({@code "text"|safe + tool|tojson} yields {@code &#34;}-escaped JSON). Otherwise {@code +} is
 * Python's: numbers add, two strings or two lists concatenate, and anything else (a string and a
 * dict or None, an undefined value) fails the render as Python's TypeError does, where Jinjava
 * would quietly print {@code null} or the dict's Java text.
 */
final class MarkupAddition extends AdditionOperator {
    static final MarkupAddition OP = new MarkupAddition();

    @Override
    protected Object apply(TypeConverter converter, Object o1, Object o2) {
        boolean safe1 = o1 instanceof SafeString;
        boolean safe2 = o2 instanceof SafeString;
        if ((safe1 || safe2) && isText(o1) && isText(o2)) {
            return new SafeString(text(o1) + text(o2));
        }
        // Python's + : numbers add, strings and lists concatenate, anything else is a TypeError
        if (isText(o1) || isText(o2)) {
            if (isText(o1) && isText(o2)) return super.apply(converter, o1, o2);
            throw new IllegalArgumentException(isText(o1)
                    ? "can only concatenate str (not \"" + typeName(o2) + "\") to str"
                    : "unsupported operand type(s) for +: '" + typeName(o1) + "' and 'str'");
        }
        if (o1 instanceof List<?> || o2 instanceof List<?>) {
            if (o1 instanceof List<?> && o2 instanceof List<?>) return super.apply(converter, o1, o2);
            throw new IllegalArgumentException(o1 instanceof List<?>
                    ? "can only concatenate list (not \"" + typeName(o2) + "\") to list"
                    : "unsupported operand type(s) for +: '" + typeName(o1) + "' and 'list'");
        }
        if (isNumber(o1) && isNumber(o2)) return super.apply(converter, number(o1), number(o2));
        throw new IllegalArgumentException("unsupported operand type(s) for +: '" + typeName(o1) + "' and '" + typeName(o2) + "'");
    }

    private static boolean isNumber(Object o) {
        return o instanceof Number || o instanceof Boolean;
    }

    private static Object number(Object o) {
        return o instanceof Boolean b ? (b ? 1L : 0L) : o;
    }

    /** Python's name for a value's type, for error messages. */
    static String typeName(Object o) {
        if (o == null) return "Undefined";
        if (o == PyNone.NONE) return "NoneType";
        if (o instanceof String || o instanceof SafeString) return "str";
        if (o instanceof Boolean) return "bool";
        if (o instanceof Long || o instanceof Integer || o instanceof java.math.BigInteger) return "int";
        if (o instanceof Number) return "float";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof List<?>) return "list";
        return o.getClass().getSimpleName();
    }

    private static boolean isText(Object o) {
        return o instanceof SafeString || o instanceof String;
    }

    /** A safe string as it is, any other text escaped. */
    private static String text(Object o) {
        return o instanceof SafeString s ? s.getValue() : escape((String) o);
    }

    /** markupsafe's escape: the five HTML-significant characters. */
    static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&#34;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (rep == null) {
                if (sb != null) sb.append(c);
                continue;
            }
            if (sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            sb.append(rep);
        }
        return sb == null ? s : sb.toString();
    }
}

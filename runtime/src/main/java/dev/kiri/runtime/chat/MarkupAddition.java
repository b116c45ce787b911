package dev.kiri.runtime.chat;

import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.objects.SafeString;
import jinjava.de.odysseus.el.misc.TypeConverter;

/**
 * {@code +} as Jinja2 evaluates it when one side is a {@code |safe} string (Python's
 * {@code markupsafe.Markup}): the other side is HTML-escaped ({@code & < > " '} become
 * {@code &amp; &lt; &gt; &#34; &#39;}) and the result stays safe. Chat templates are rendered without
 * autoescaping, so this is the only place escaping happens, and some templates depend on it
 * ({@code "text"|safe + tool|tojson} yields {@code &#34;}-escaped JSON). Everything else is
 * Jinjava's addition.
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
        return super.apply(converter, o1, o2);
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

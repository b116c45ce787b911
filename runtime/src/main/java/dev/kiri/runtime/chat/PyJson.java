package dev.kiri.runtime.chat;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * JSON text exactly as Python's {@code json.dumps(x, ensure_ascii=False, indent=..., separators=...,
 * sort_keys=...)} writes it, which is what Hugging Face's {@code tojson} filter produces: {@code ", "}
 * and {@code ": "} between items without indent, {@code ","} and newlines with it, non-ASCII text
 * kept as is, control characters escaped as a backslash, {@code u} and four hex digits, floats as Python's {@code repr}.
 */
final class PyJson {
    private final String indent;        // null: one line
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    /**
     * @param indent null for one line, an Integer (that many spaces; 0 or less: newlines only) or a String
     * @param separators null for Python's defaults, else a two-element list or array {item, key}
     */
    PyJson(Object indent, Object separators, boolean sortKeys) {
        this.indent = indentString(indent);
        this.sortKeys = sortKeys;
        if (separators == null) {
            this.itemSeparator = this.indent == null ? ", " : ",";
            this.keySeparator = ": ";
        } else {
            List<?> seps = asList(separators);
            if (seps == null || seps.size() != 2) {
                throw new IllegalArgumentException("tojson: separators must be a pair (item separator, key separator), got " + separators);
            }
            this.itemSeparator = String.valueOf(seps.get(0));
            this.keySeparator = String.valueOf(seps.get(1));
        }
    }

    static String dumps(Object value) {
        return new PyJson(null, null, false).write(value);
    }

    String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    private static String indentString(Object indent) {
        if (indent == null) return null;
        if (indent instanceof Number n) return " ".repeat((int) Math.max(0, Math.min(n.longValue(), 256)));
        if (indent instanceof String s) {
            // Python accepts a string as the indent text; a numeric string from a template arrives as text here
            try {
                return " ".repeat(Math.max(0, Math.min(Integer.parseInt(s.trim()), 256)));
            } catch (NumberFormatException e) {
                return s;
            }
        }
        throw new IllegalArgumentException("tojson: indent must be an integer or a string, got " + indent.getClass().getSimpleName());
    }

    private void write(StringBuilder sb, Object v, int depth) {
        if (depth > 512) throw new IllegalArgumentException("tojson: nesting deeper than 512 levels (a cycle?)");
        v = unwrap(v);
        if (v == null) {
            sb.append("null");
        } else if (v instanceof CharSequence s) {
            string(sb, s.toString());
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof Number n) {
            sb.append(number(n));
        } else if (v instanceof Character c) {
            string(sb, c.toString());
        } else if (v instanceof Map<?, ?> m) {
            object(sb, m, depth);
        } else {
            List<?> list = asList(v);
            if (list == null) {
                throw new IllegalArgumentException("Object of type " + v.getClass().getSimpleName() + " is not JSON serializable");
            }
            array(sb, list, depth);
        }
    }

    private void array(StringBuilder sb, List<?> list, int depth) {
        if (list.isEmpty()) {
            sb.append("[]");
            return;
        }
        sb.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) sb.append(itemSeparator);
            newline(sb, depth + 1);
            write(sb, list.get(i), depth + 1);
        }
        newline(sb, depth);
        sb.append(']');
    }

    private void object(StringBuilder sb, Map<?, ?> map, int depth) {
        if (map.isEmpty()) {
            sb.append("{}");
            return;
        }
        List<Map.Entry<String, Object>> entries = new ArrayList<>(map.size());
        for (Map.Entry<?, ?> e : map.entrySet()) entries.add(new AbstractMap.SimpleEntry<>(key(e.getKey()), e.getValue()));
        if (sortKeys) entries.sort(Comparator.comparing(Map.Entry::getKey));
        sb.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            if (!first) sb.append(itemSeparator);
            first = false;
            newline(sb, depth + 1);
            string(sb, e.getKey());
            sb.append(keySeparator);
            write(sb, e.getValue(), depth + 1);
        }
        newline(sb, depth);
        sb.append('}');
    }

    private void newline(StringBuilder sb, int depth) {
        if (indent == null) return;
        sb.append('\n');
        for (int i = 0; i < depth; i++) sb.append(indent);
    }

    /** Python turns str, int, float, bool and None keys into strings; anything else is an error. */
    private static String key(Object k) {
        k = unwrap(k);
        if (k instanceof CharSequence s) return s.toString();
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (k instanceof Number n) return number(n);
        throw new IllegalArgumentException("keys must be str, int, float, bool or None, not " + k.getClass().getSimpleName());
    }

    private static Object unwrap(Object v) {
        if (v instanceof Optional<?> o) return o.orElse(null);
        if (v == PyNone.NONE) return null;
        if (v instanceof com.hubspot.jinjava.objects.SafeString s) return s.getValue(); // Markup is a str
        return v;
    }

    static List<?> asList(Object v) {
        if (v instanceof List<?> l) return l;
        if (v instanceof Collection<?> c) return new ArrayList<>(c);
        if (v instanceof Map.Entry<?, ?> e) return java.util.Arrays.asList(e.getKey(), e.getValue());
        if (v != null && v.getClass().isArray()) {
            int n = Array.getLength(v);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) out.add(Array.get(v, i));
            return out;
        }
        return null;
    }

    /** A number as Python prints it: integers plainly, floats as {@code repr(float)}. */
    static String number(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte || n instanceof BigInteger) {
            return n.toString();
        }
        if (n instanceof BigDecimal bd) return floatRepr(bd.doubleValue());
        if (n instanceof Float f) return floatRepr(Double.parseDouble(Float.toString(f)));
        return floatRepr(n.doubleValue());
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        // Double.toString gives the shortest decimal that round-trips (JDK 19 and later)
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale();
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
        }
        StringBuilder sb = new StringBuilder(sign).append(digits.charAt(0));
        if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
        sb.append('e').append(exp < 0 ? '-' : '+');
        int a = Math.abs(exp);
        if (a < 10) sb.append('0');
        return sb.append(a).toString();
    }

    private static void string(StringBuilder sb, String s) {
        JsonText.appendQuoted(sb, s);
    }
}

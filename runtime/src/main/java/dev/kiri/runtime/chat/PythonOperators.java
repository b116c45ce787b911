package dev.kiri.runtime.chat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.hubspot.jinjava.objects.collections.PyList;
import jinjava.de.odysseus.el.misc.NumberOperations;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.javax.el.ELContext;

/**
 * Binary operators with Python's meaning where Java EL's differs: {@code and} returns an operand
 * (not a boolean), {@code *} repeats strings and lists, {@code %} formats strings printf-style.
 */
final class PythonOperators {
    private PythonOperators() {
    }

    /** {@code a and b}: {@code a} when it is false, else {@code b}; {@code b} is evaluated only when needed. */
    static final AstBinary.Operator AND = new AstBinary.Operator() {
        @Override
        public Object eval(Bindings bindings, ELContext context, AstNode left, AstNode right) {
            Object l = left.eval(bindings, context);
            return JinjaEngine.PythonTruth.isTrue(l) ? right.eval(bindings, context) : l;
        }

        @Override
        public String toString() {
            return "and";
        }
    };

    /** {@code "ab" * 3}, {@code 3 * "ab"}, {@code [x] * n}; numbers as before. */
    static final AstBinary.Operator MUL = new AstBinary.SimpleOperator() {
        @Override
        protected Object apply(TypeConverter converter, Object a, Object b) {
            if (isRepeatable(a) && isInteger(b)) return repeat(a, ((Number) b).longValue());
            if (isRepeatable(b) && isInteger(a)) return repeat(b, ((Number) a).longValue());
            return NumberOperations.mul(converter, a, b);
        }

        @Override
        public String toString() {
            return "*";
        }
    };

    /** {@code "%s items" % n}, {@code "%(name)s" % dict}; numbers as before. */
    static final AstBinary.Operator MOD = new AstBinary.SimpleOperator() {
        @Override
        protected Object apply(TypeConverter converter, Object a, Object b) {
            if (a instanceof String s) return percentFormat(s, b);
            return NumberOperations.mod(converter, a, b);
        }

        @Override
        public String toString() {
            return "%";
        }
    };

    private static boolean isRepeatable(Object o) {
        return o instanceof String || o instanceof List<?>;
    }

    private static boolean isInteger(Object o) {
        return o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte;
    }

    private static final long MAX_REPEAT_CHARS = 16L << 20;

    private static Object repeat(Object seq, long n) {
        if (seq instanceof String s) {
            if (n <= 0 || s.isEmpty()) return "";
            if (s.length() * n > MAX_REPEAT_CHARS) throw new IllegalArgumentException("string repetition longer than " + MAX_REPEAT_CHARS + " characters");
            return s.repeat((int) n);
        }
        List<?> l = (List<?>) seq;
        if (n <= 0 || l.isEmpty()) return new PyList(new ArrayList<>());
        if (l.size() * n > MAX_REPEAT_CHARS) throw new IllegalArgumentException("list repetition longer than " + MAX_REPEAT_CHARS + " items");
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll(l);
        return new PyList(out);
    }

    /** Python's {@code str % args}: flags {@code -+ 0#}, width, precision, types s r d i u f F e E g G x X o c and %%. */
    static String percentFormat(String fmt, Object args) {
        List<?> positional = args instanceof List<?> l ? l : Collections.singletonList(args);
        Map<?, ?> named = args instanceof Map<?, ?> m ? m : null;
        StringBuilder sb = new StringBuilder();
        int next = 0;
        int i = 0;
        int n = fmt.length();
        while (i < n) {
            char c = fmt.charAt(i++);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            if (i >= n) throw new IllegalArgumentException("incomplete format");
            Object value = null;
            boolean haveValue = false;
            if (fmt.charAt(i) == '(') {
                int close = fmt.indexOf(')', i);
                if (close < 0 || named == null) throw new IllegalArgumentException("format requires a mapping");
                value = named.get(fmt.substring(i + 1, close));
                haveValue = true;
                i = close + 1;
            }
            StringBuilder flags = new StringBuilder();
            while (i < n && "-+ 0#".indexOf(fmt.charAt(i)) >= 0) flags.append(fmt.charAt(i++));
            int start = i;
            while (i < n && Character.isDigit(fmt.charAt(i))) i++;
            String width = fmt.substring(start, i);
            String precision = "";
            if (i < n && fmt.charAt(i) == '.') {
                start = ++i;
                while (i < n && Character.isDigit(fmt.charAt(i))) i++;
                precision = fmt.substring(start, i);
                if (precision.isEmpty()) precision = "0";
            }
            if (i >= n) throw new IllegalArgumentException("incomplete format");
            char type = fmt.charAt(i++);
            if (type == '%') {
                sb.append('%');
                continue;
            }
            if (!haveValue) {
                if (next >= positional.size()) throw new IllegalArgumentException("not enough arguments for format string");
                value = positional.get(next++);
            }
            String javaFlags = flags.toString().replace("#", "");
            String spec = "%" + javaFlags + width + (precision.isEmpty() ? "" : "." + precision);
            String piece = switch (type) {
                case 's' -> pad(value == null ? "None" : PyStr.str(value), flags, width, precision);
                case 'r' -> pad(PyStr.repr(value), flags, width, precision);
                case 'd', 'i', 'u' -> String.format(Locale.ROOT, "%" + javaFlags + width + "d", toLong(value));
                case 'x', 'X', 'o' -> String.format(Locale.ROOT, "%" + javaFlags + width + type, toLong(value));
                case 'f', 'F', 'e', 'E', 'g', 'G' -> String.format(Locale.ROOT, spec.contains(".") ? spec + type : spec + ".6" + type, toDouble(value));
                case 'c' -> value instanceof Number num ? Character.toString(num.intValue()) : PyStr.str(value);
                default -> throw new IllegalArgumentException("unsupported format character '" + type + "'");
            };
            sb.append(piece);
        }
        if (named == null && next < positional.size() && args instanceof List<?>) {
            throw new IllegalArgumentException("not all arguments converted during string formatting");
        }
        return sb.toString();
    }

    private static String pad(String s, CharSequence flags, String width, String precision) {
        if (!precision.isEmpty()) s = s.substring(0, Math.min(s.length(), Integer.parseInt(precision)));
        if (width.isEmpty()) return s;
        int w = Integer.parseInt(width);
        if (s.length() >= w) return s;
        String fill = " ".repeat(w - s.length());
        return flags.toString().contains("-") ? s + fill : fill + s;
    }

    private static long toLong(Object v) {
        if (v instanceof Number num) return num.longValue();
        if (v instanceof Boolean b) return b ? 1 : 0;
        throw new IllegalArgumentException("%d format: a real number is required, not " + (v == null ? "NoneType" : v.getClass().getSimpleName()));
    }

    private static double toDouble(Object v) {
        if (v instanceof Number num) return num.doubleValue();
        throw new IllegalArgumentException("must be real number, not " + (v == null ? "NoneType" : v.getClass().getSimpleName()));
    }
}

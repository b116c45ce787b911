package dev.kiri.runtime.chat;

import java.beans.FeatureDescriptor;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.hubspot.jinjava.objects.collections.PyList;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's {@code str} and {@code dict} methods for templates ({@code message.content.strip()},
 * {@code content.split('</think>')[-1]}, {@code name.startswith('<tool')}, {@code tool.items()},
 * {@code msg.get('tool_calls')}), with Python's semantics: Unicode whitespace as {@code str.isspace},
 * {@code split()} without a separator dropping empty pieces, tuples of prefixes, negative counts.
 * It sits first in the engine's resolver chain and answers only the names it knows; Java's own
 * {@code String} methods are never reached from a template through it.
 */
final class PythonMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (base == null || !(method instanceof String name)) return null;
        Object[] args = params == null ? new Object[0] : params;
        if (base instanceof String s) {
            Object r = stringMethod(s, name, args);
            if (r != NOT_FOUND) {
                context.setPropertyResolved(true);
                return r;
            }
        } else if (base instanceof Map<?, ?> m) {
            Object r = mapMethod(m, name, args);
            if (r != NOT_FOUND) {
                context.setPropertyResolved(true);
                return r;
            }
        }
        return null;
    }

    private static final Object NOT_FOUND = new Object();

    static Object stringMethod(String s, String name, Object[] a) {
        return switch (name) {
            case "strip" -> strip(s, chars(name, a), true, true);
            case "lstrip" -> strip(s, chars(name, a), true, false);
            case "rstrip" -> strip(s, chars(name, a), false, true);
            case "split" -> split(s, optString(name, a, 0), maxsplit(name, a));
            case "rsplit" -> rsplit(s, optString(name, a, 0), maxsplit(name, a));
            case "splitlines" -> splitlines(s);
            case "startswith" -> affix(s, name, a, true);
            case "endswith" -> affix(s, name, a, false);
            case "replace" -> replace(s, str(name, a, 0), str(name, a, 1), a.length > 2 ? toInt(name, a[2]) : -1);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(Locale.ROOT)
                      + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(Locale.ROOT);
            case "find" -> (long) s.indexOf(str(name, a, 0));
            case "rfind" -> (long) s.lastIndexOf(str(name, a, 0));
            case "index" -> {
                int i = s.indexOf(str(name, a, 0));
                if (i < 0) throw new IllegalArgumentException("substring not found");
                yield (long) i;
            }
            case "count" -> count(s, str(name, a, 0));
            case "join" -> join(s, a.length > 0 ? a[0] : null);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(PythonMethods::isSpace);
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "islower" -> s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(c -> Character.isUpperCase(c) || Character.isTitleCase(c));
            case "isupper" -> s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(c -> Character.isLowerCase(c) || Character.isTitleCase(c));
            default -> NOT_FOUND;
        };
    }

    private static Object mapMethod(Map<?, ?> m, String name, Object[] a) {
        return switch (name) {
            case "items" -> {
                List<Object> out = new PyList(new ArrayList<>(m.size()));
                for (Map.Entry<?, ?> e : m.entrySet()) out.add(new AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
                yield out;
            }
            case "keys" -> new PyList(new ArrayList<>(m.keySet()));
            case "values" -> new PyList(new ArrayList<>(m.values()));
            case "get" -> {
                if (a.length == 0 || a.length > 2) throw new IllegalArgumentException("get expected 1 or 2 arguments, got " + a.length);
                yield m.containsKey(a[0]) ? m.get(a[0]) : (a.length > 1 ? a[1] : PyNone.NONE);
            }
            default -> NOT_FOUND;
        };
    }

    /** Python's {@code str.isspace} for one code point. */
    static boolean isSpace(int c) {
        return switch (c) {
            case '\t', '\n', 0x0B, '\f', '\r', 0x1C, 0x1D, 0x1E, 0x1F, ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> c >= 0x2000 && c <= 0x200A;
        };
    }

    /** Python's {@code str.strip([chars])}: whitespace by {@link #isSpace}, or any of {@code chars}. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        if (left) {
            while (start < end) {
                int c = s.codePointAt(start);
                if (!stripped(c, chars)) break;
                start += Character.charCount(c);
            }
        }
        if (right) {
            while (end > start) {
                int c = s.codePointBefore(end);
                if (!stripped(c, chars)) break;
                end -= Character.charCount(c);
            }
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(Character.toString(c)) >= 0;
    }

    static List<Object> split(String s, String sep, int maxsplit) {
        List<Object> out = new PyList(new ArrayList<>());
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= n) break;
                if (maxsplit >= 0 && out.size() == maxsplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int k = s.indexOf(sep, from);
            if (k < 0) break;
            out.add(s.substring(from, k));
            from = k + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<Object> rsplit(String s, String sep, int maxsplit) {
        if (maxsplit < 0) return split(s, sep, -1);
        List<Object> rev = new ArrayList<>();
        if (sep == null) {
            int j = s.length();
            while (true) {
                while (j > 0 && isSpace(s.codePointBefore(j))) j -= Character.charCount(s.codePointBefore(j));
                if (j <= 0) break;
                if (rev.size() == maxsplit) {
                    rev.add(strip(s.substring(0, j), null, true, false));
                    break;
                }
                int i = j;
                while (i > 0 && !isSpace(s.codePointBefore(i))) i -= Character.charCount(s.codePointBefore(i));
                rev.add(s.substring(i, j));
                j = i;
            }
        } else {
            if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
            int to = s.length();
            while (rev.size() < maxsplit) {
                int k = s.lastIndexOf(sep, to - sep.length());
                if (k < 0) break;
                rev.add(s.substring(k + sep.length(), to));
                to = k;
            }
            rev.add(s.substring(0, to));
        }
        List<Object> out = new PyList(new ArrayList<>(rev.size()));
        for (int i = rev.size() - 1; i >= 0; i--) out.add(rev.get(i));
        return out;
    }

    static List<Object> splitlines(String s) {
        List<Object> out = new PyList(new ArrayList<>());
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean br = c == '\n' || c == '\r' || c == 0x0B || c == '\f' || c == 0x1C || c == 0x1D || c == 0x1E
                    || c == 0x85 || c == 0x2028 || c == 0x2029;
            if (!br) continue;
            out.add(s.substring(start, i));
            if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
            start = i + 1;
        }
        if (start < s.length()) out.add(s.substring(start));
        return out;
    }

    private static boolean affix(String s, String name, Object[] a, boolean prefix) {
        if (a.length == 0) throw new IllegalArgumentException(name + "() takes at least 1 argument (0 given)");
        int len = s.length();
        int start = a.length > 1 && a[1] != null ? index(toInt(name, a[1]), len) : 0;
        int end = a.length > 2 && a[2] != null ? index(toInt(name, a[2]), len) : len;
        String sub = start <= end ? s.substring(start, end) : null;
        List<?> options = a[0] instanceof String ? List.of(a[0]) : PyJson.asList(a[0]);
        if (options == null) {
            throw new IllegalArgumentException(name + " first arg must be str or a tuple of str, not " + a[0].getClass().getSimpleName());
        }
        if (sub == null) return false;
        for (Object o : options) {
            if (!(o instanceof String p)) throw new IllegalArgumentException("tuple for " + name + " must only contain str");
            if (prefix ? sub.startsWith(p) : sub.endsWith(p)) return true;
        }
        return false;
    }

    private static int index(int i, int len) {
        if (i < 0) i += len;
        return Math.max(0, Math.min(i, len));
    }

    private static String replace(String s, String old, String repl, int count) {
        if (count < 0) return s.replace(old, repl);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int k = s.indexOf(old, from);
            if (k < 0) break;
            if (old.isEmpty()) {
                // Python inserts the replacement before each character (and at the end)
                sb.append(repl);
                if (k >= s.length()) {
                    from = s.length() + 1;
                    break;
                }
                int cp = s.codePointAt(k);
                sb.appendCodePoint(cp);
                from = k + Character.charCount(cp);
                continue;
            }
            sb.append(s, from, k).append(repl);
            from = k + old.length();
        }
        if (from <= s.length()) sb.append(s, from, s.length());
        return sb.toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1L;
        long n = 0;
        for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) n++;
        return n;
    }

    private static String join(String sep, Object items) {
        List<?> list = PyJson.asList(items instanceof Map<?, ?> m ? m.keySet() : items);
        if (list == null) throw new IllegalArgumentException("can only join an iterable");
        StringBuilder sb = new StringBuilder();
        for (Iterator<?> it = list.iterator(); it.hasNext(); ) {
            Object o = it.next();
            if (!(o instanceof String str)) {
                throw new IllegalArgumentException("sequence item: expected str instance, " + (o == null ? "NoneType" : o.getClass().getSimpleName()) + " found");
            }
            sb.append(str);
            if (it.hasNext()) sb.append(sep);
        }
        return sb.toString();
    }

    /** Python's {@code str.title()}: upper-case a cased character after an uncased one, lower-case the rest. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
            if (cased) sb.appendCodePoint(prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
            else sb.appendCodePoint(c);
            prevCased = cased;
        }
        return sb.toString();
    }

    private static String chars(String name, Object[] a) {
        return optString(name, a, 0);
    }

    private static String optString(String name, Object[] a, int i) {
        if (a.length <= i || a[i] == null) return null;
        if (a[i] instanceof String s) return s;
        throw new IllegalArgumentException(name + "() argument " + (i + 1) + " must be str or None, not " + a[i].getClass().getSimpleName());
    }

    private static String str(String name, Object[] a, int i) {
        if (a.length <= i) throw new IllegalArgumentException(name + "() takes at least " + (i + 1) + " argument" + (i == 0 ? "" : "s") + " (" + a.length + " given)");
        if (a[i] instanceof String s) return s;
        throw new IllegalArgumentException(name + "() argument " + (i + 1) + " must be str, not " + (a[i] == null ? "None" : a[i].getClass().getSimpleName()));
    }

    private static int maxsplit(String name, Object[] a) {
        return a.length > 1 && a[1] != null ? toInt(name, a[1]) : -1;
    }

    private static int toInt(String name, Object o) {
        if (o instanceof Number n) return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n.longValue()));
        throw new IllegalArgumentException(name + "(): an integer is required, got " + (o == null ? "None" : o.getClass().getSimpleName()));
    }

    // Besides method calls the resolver answers only s[i] on strings (a code point, negative i from the end,
    // undefined when out of range); every other property read goes to the engine's own resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        // Jinjava hands the index over as text
        Long index = property instanceof Long || property instanceof Integer ? Long.valueOf(((Number) property).longValue())
                : property instanceof String p && isSmallInteger(p) ? Long.valueOf(p) : null;
        if (base instanceof String s && index != null) {
            context.setPropertyResolved(true);
            long i = index;
            int n = s.codePointCount(0, s.length());
            if (i < 0) i += n;
            if (i < 0 || i >= n) return null;
            int at = s.offsetByCodePoints(0, (int) i);
            return s.substring(at, s.offsetByCodePoints(at, 1));
        }
        return null;
    }

    private static boolean isSmallInteger(String p) {
        int start = p.startsWith("-") ? 1 : 0;
        if (p.length() <= start || p.length() - start > 9) return false;
        for (int i = start; i < p.length(); i++) if (p.charAt(i) < '0' || p.charAt(i) > '9') return false;
        return true;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}

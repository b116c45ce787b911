package dev.kiri.runtime.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rewrites a template's source gets before Jinjava parses it, each one closing a gap between
 * Jinjava and Jinja2:
 * <ul>
 *   <li>line endings: {@code \r\n} and {@code \r} become {@code \n}, and one trailing newline is
 *       dropped, as Jinja2's lexer does ({@code keep_trailing_newline=False});</li>
 *   <li>loop filters: {@code {% for x in items if cond %}} (which Jinjava does not know) becomes
 *       {@code {% for x in __kiri_loop_filter(items, N) %}}, where filter N evaluates {@code cond}
 *       per item with the loop variables bound, so {@code loop.last} and {@code loop.index} count
 *       the kept items only, as in Jinja2.</li>
 * </ul>
 * Text, comments, expressions and {@code raw} blocks are left alone; string literals inside tags are
 * skipped when looking for keywords.
 */
final class TemplateSource {
    /** One {@code for ... if condition} loop: its loop variables and the condition's source. */
    record LoopFilter(List<String> vars, String condition) {
    }

    final String source;
    final List<LoopFilter> loopFilters;

    private TemplateSource(String source, List<LoopFilter> loopFilters) {
        this.source = source;
        this.loopFilters = List.copyOf(loopFilters);
    }

    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");
    private static final Pattern FOR = Pattern.compile("(?s)(\\s*)for\\s+(.+?)\\s+in\\s+(.*?)(\\s*)");

    static TemplateSource of(String raw) {
        String s = raw.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        List<LoopFilter> filters = new ArrayList<>();
        StringBuilder out = new StringBuilder(s.length() + 64);
        int i = 0;
        int n = s.length();
        while (i < n) {
            int open = s.indexOf('{', i);
            if (open < 0 || open + 1 >= n) {
                out.append(s, i, n);
                break;
            }
            char kind = s.charAt(open + 1);
            if (kind != '%' && kind != '{' && kind != '#') {
                out.append(s, i, open + 1);
                i = open + 1;
                continue;
            }
            out.append(s, i, open);
            if (kind == '#') {
                int end = s.indexOf("#}", open + 2);
                int stop = end < 0 ? n : end + 2;
                out.append(s, open, stop);
                i = stop;
                continue;
            }
            String close = kind == '%' ? "%}" : "}}";
            int end = findClose(s, open + 2, close);
            if (end < 0) { // unterminated: let the parser report it
                out.append(s, open, n);
                break;
            }
            String body = s.substring(open + 2, end);
            int stop = end + 2;
            if (kind == '%') {
                String inner = stripMarkers(body);
                String name = inner.strip();
                if (name.equals("raw")) {
                    Matcher m = RAW_END.matcher(s);
                    int rawEnd = m.find(stop) ? m.end() : n;
                    out.append(s, open, rawEnd);
                    i = rawEnd;
                    continue;
                }
                String rewritten = rewriteFor(body, filters);
                if (rewritten != null) {
                    out.append("{%").append(rewritten).append("%}");
                    i = stop;
                    continue;
                }
            }
            out.append(s, open, stop);
            i = stop;
        }
        return new TemplateSource(out.toString(), filters);
    }

    /** The index of {@code close} after {@code from}, skipping string literals; -1 if none. */
    private static int findClose(String s, int from, String close) {
        char quote = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (s.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }

    private static String stripMarkers(String body) {
        String b = body;
        if (b.startsWith("-") || b.startsWith("+")) b = b.substring(1);
        if (b.endsWith("-") || b.endsWith("+")) b = b.substring(0, b.length() - 1);
        return b;
    }

    /** A for tag body with a loop filter rewritten, or null when the tag is something else. */
    private static String rewriteFor(String body, List<LoopFilter> filters) {
        String lead = body.startsWith("-") || body.startsWith("+") ? body.substring(0, 1) : "";
        String trail = body.length() > lead.length() && (body.endsWith("-") || body.endsWith("+")) ? body.substring(body.length() - 1) : "";
        String inner = body.substring(lead.length(), body.length() - trail.length());
        Matcher m = FOR.matcher(inner);
        if (!m.matches()) return null;
        String vars = m.group(2);
        String rest = m.group(3);
        int ifAt = topLevelKeyword(rest, "if");
        if (ifAt < 0) return null;
        String iterable = rest.substring(0, ifAt).strip();
        String condition = rest.substring(ifAt + 2).strip();
        String recursive = "";
        if (condition.endsWith(" recursive")) {
            condition = condition.substring(0, condition.length() - " recursive".length()).strip();
            recursive = " recursive";
        }
        List<String> names = new ArrayList<>();
        for (String v : vars.replace("(", "").replace(")", "").split(",")) {
            if (!v.isBlank()) names.add(v.strip());
        }
        int index = filters.size();
        filters.add(new LoopFilter(List.copyOf(names), condition));
        return lead + m.group(1) + "for " + vars + " in " + JinjaEngine.LOOP_FILTER_FUNCTION + "(" + iterable + ", " + index + ")"
                + recursive + m.group(4) + " " + trail;
    }

    /** Position of a keyword standing alone at bracket depth 0 outside string literals, or -1. */
    private static int topLevelKeyword(String s, String word) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
                continue;
            }
            switch (c) {
                case '\'', '"' -> quote = c;
                case '(', '[', '{' -> depth++;
                case ')', ']', '}' -> depth--;
                default -> {
                    if (depth == 0 && s.startsWith(word, i)
                            && (i == 0 || !isNameChar(s.charAt(i - 1)))
                            && (i + word.length() >= s.length() || !isNameChar(s.charAt(i + word.length())))) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    private static boolean isNameChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}

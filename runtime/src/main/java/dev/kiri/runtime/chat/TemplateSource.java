package dev.kiri.runtime.chat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rewrites a template's source gets before Jinjava parses it, each one closing a gap between
 * Jinjava and Jinja2:
 * <ul>
 *   <li>lstrip_blocks is applied here, the way Jinja2 does it (see {@link #lstrip});</li>
 *   <li>comments are removed here, with Jinja2's whitespace handling around them;</li>
 *   <li>line endings: {@code \r\n} and {@code \r} become {@code \n}, and one trailing newline is
 *       dropped, as Jinja2's lexer does ({@code keep_trailing_newline=False});</li>
 *   <li>loops iterate the Python way: {@code {% for x in items %}} becomes
 *       {@code {% for x in __kiri_iter(items) %}}, which turns a string into its characters (Jinjava
 *       would loop once over the whole string) and a mapping into its keys;</li>
 *   <li>loop filters: {@code {% for x in items if cond %}} (which Jinjava does not know) becomes
 *       {@code {% for x in __kiri_loop_filter(items, N) %}}, where filter N evaluates {@code cond}
 *       per item with the loop variables bound, so {@code loop.last} and {@code loop.index} count
 *       the kept items only, as in Jinja2;</li>
 *   <li>every loop first sets a variable to its items and loops over that, so that
 *       {@code {% for %}...{% else %}...{% endfor %}} (the else part renders when nothing was
 *       iterated; Jinjava ignores it) becomes the loop and {@code {% if not items %}} around the else
 *       part, and {@code loop.previtem}/{@code loop.nextitem} read the items around
 *       {@code loop.index0};</li>
 *   <li>string literals inside tags and expressions are decoded with Python's escapes
 *       (backslash-u with four hex digits, backslash-x with two, octal, bell, vertical tab; unknown escapes kept with
 *       their backslash) and re-encoded in the few escapes Jinjava's scanner knows.</li>
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
        Deque<Block> blocks = new ArrayDeque<>();
        int loops = 0;
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
            if (kind != '{') {
                char marker = open + 2 < n ? s.charAt(open + 2) : 0;
                if (marker == '+') {
                    // {%+ and {#+ switch lstrip_blocks off for this tag; Jinjava does not know the marker
                    s = s.substring(0, open + 2) + s.substring(open + 3);
                    n = s.length();
                } else if (marker != '-') {
                    lstrip(out);
                }
            }
            if (kind == '#') {
                // Comments are dropped here with Jinja2's whitespace rules ({#- strips before, -#} after,
                // trim_blocks takes the newline after #}). An empty expression takes the comment's place:
                // Jinjava would otherwise let a preceding -%} trim through the comment into the next text.
                int end = s.indexOf("#}", open + 2);
                if (end < 0) { // unterminated: let the parser report it
                    out.append(s, open, n);
                    break;
                }
                if (open + 2 < n && s.charAt(open + 2) == '-') {
                    int k = out.length();
                    while (k > 0 && Character.isWhitespace(out.charAt(k - 1))) k--;
                    out.setLength(k);
                }
                int stop = end + 2;
                if (end > open + 2 && s.charAt(end - 1) == '-') {
                    while (stop < n && Character.isWhitespace(s.charAt(stop))) stop++;
                } else if (stop < n && s.charAt(stop) == '\n') {
                    stop++;
                }
                out.append("{{''}}");
                i = stop;
                continue;
            }
            String close = kind == '%' ? "%}" : "}}";
            int end = findClose(s, open + 2, close);
            if (end < 0) { // unterminated: let the parser report it
                out.append(s, open, n);
                break;
            }
            String body = rewriteLiterals(s.substring(open + 2, end));
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
                String tag = name.isEmpty() ? "" : name.split("[\\s(|]", 2)[0];
                body = loopItems(body, blocks);
                ForTag forTag = tag.equals("for") ? rewriteFor(body, filters) : null;
                if (forTag != null) {
                    // the items go into a variable first: loop.previtem/nextitem and for-else read it
                    Block b = new Block("for", out.length(), forTag);
                    b.itemsVariable = "__kiri_for" + loops++;
                    out.append("{%").append(forTag.lead()).append(" set ").append(b.itemsVariable).append(" = ").append(forTag.iterable())
                            .append(" %}{% for ").append(forTag.vars()).append(" in ").append(b.itemsVariable).append(forTag.recursive())
                            .append(' ').append(forTag.trail()).append("%}");
                    blocks.push(b);
                    i = stop;
                    continue;
                }
                String lead = body.startsWith("-") ? "-" : "";
                String trail = body.endsWith("-") && body.length() > 1 ? "-" : "";
                if (tag.equals("else") && !blocks.isEmpty() && blocks.peek().name.equals("for")) {
                    // for ... else: the else part renders when there was nothing to iterate
                    Block b = blocks.peek();
                    b.hasElse = true;
                    out.append("{%").append(lead).append(" endfor %}{% if not ").append(b.itemsVariable).append(' ').append(trail).append("%}");
                    i = stop;
                    continue;
                }
                if (tag.startsWith("end")) {
                    String opened = tag.substring(3);
                    while (!blocks.isEmpty()) {
                        Block b = blocks.pop();
                        if (b.name.equals(opened)) {
                            if (b.hasElse) {
                                out.append("{%").append(lead).append(" endif ").append(trail).append("%}");
                                i = stop;
                                tag = null;
                            }
                            break;
                        }
                    }
                    if (tag == null) continue;
                } else if (BLOCK_TAGS.contains(tag) && !(tag.equals("set") && name.contains("="))) {
                    blocks.push(new Block(tag, out.length(), null));
                }
            }
            if (kind == '{') body = loopItems(body, blocks);
            out.append(kind == '%' ? "{%" : "{{").append(body).append(close);
            i = stop;
        }
        return new TemplateSource(out.toString(), filters);
    }

    /**
     * Jinja2's lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag
     * are dropped. (Jinjava's own option strips them before any tag, even in the middle of a line,
     * so it is off and this does the job.)
     */
    private static void lstrip(StringBuilder out) {
        int k = out.length();
        while (k > 0 && (out.charAt(k - 1) == ' ' || out.charAt(k - 1) == '\t')) k--;
        if (k == 0 || out.charAt(k - 1) == '\n') out.setLength(k);
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

    private static final Pattern LOOP_NEIGHBOUR = Pattern.compile("\\bloop\\.(previtem|nextitem)\\b");

    /**
     * {@code loop.previtem} and {@code loop.nextitem} (which Jinjava's loop object lacks) read the
     * innermost loop's items variable; outside a loop the text is left alone.
     */
    private static String loopItems(String body, Deque<Block> blocks) {
        if (!body.contains("loop.")) return body;
        Block loop = null;
        for (Block b : blocks) {
            if (b.name.equals("for")) {
                loop = b;
                break;
            }
        }
        if (loop == null) return body;
        String items = loop.itemsVariable;
        Matcher m = LOOP_NEIGHBOUR.matcher(body);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String offset = m.group(1).equals("previtem") ? " - 1" : " + 1";
            m.appendReplacement(sb, Matcher.quoteReplacement(
                    JinjaEngine.ITEM_FUNCTION + "(" + items + ", loop.index0" + offset + ")"));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Tags that open a block closed by {@code end<name>} (for and raw are handled on their own). */
    private static final Set<String> BLOCK_TAGS = Set.of("if", "macro", "call", "filter", "set", "block", "with", "autoescape", "trans");

    /** An open block while scanning: its tag, where its tag starts in the output, and for loops' details. */
    private static final class Block {
        final String name;
        final int position;
        final ForTag forTag;
        String itemsVariable;
        boolean hasElse;

        Block(String name, int position, ForTag forTag) {
            this.name = name;
            this.position = position;
            this.forTag = forTag;
        }
    }

    /** A rewritten for tag: its whitespace markers, loop variables and the iterable expression it loops over. */
    record ForTag(String lead, String vars, String iterable, String recursive, String trail) {
    }

    /** A for tag with its iterable passed through iter or a loop filter, or null when the tag is no for tag. */
    private static ForTag rewriteFor(String body, List<LoopFilter> filters) {
        String lead = body.startsWith("-") || body.startsWith("+") ? body.substring(0, 1) : "";
        String trail = body.length() > lead.length() && (body.endsWith("-") || body.endsWith("+")) ? body.substring(body.length() - 1) : "";
        String inner = body.substring(lead.length(), body.length() - trail.length());
        Matcher m = FOR.matcher(inner);
        if (!m.matches()) return null;
        String vars = m.group(2);
        String rest = m.group(3);
        String recursive = "";
        if (rest.endsWith(" recursive")) {
            rest = rest.substring(0, rest.length() - " recursive".length()).strip();
            recursive = " recursive";
        }
        int ifAt = topLevelKeyword(rest, "if");
        if (ifAt < 0) {
            return new ForTag(lead, vars, JinjaEngine.ITER_FUNCTION + "(" + rest + ")", recursive, trail);
        }
        String iterable = rest.substring(0, ifAt).strip();
        String condition = rest.substring(ifAt + 2).strip();
        List<String> names = new ArrayList<>();
        for (String v : vars.replace("(", "").replace(")", "").split(",")) {
            if (!v.isBlank()) names.add(v.strip());
        }
        int index = filters.size();
        filters.add(new LoopFilter(List.copyOf(names), condition));
        return new ForTag(lead, vars, JinjaEngine.LOOP_FILTER_FUNCTION + "(" + iterable + ", " + index + ")", recursive, trail);
    }

    /** A tag or expression body with every string literal's Python escapes resolved (see the class comment). */
    static String rewriteLiterals(String body) {
        if (body.indexOf('\\') < 0) return body;
        StringBuilder out = new StringBuilder(body.length());
        int i = 0;
        int n = body.length();
        while (i < n) {
            char c = body.charAt(i);
            if (c != '\'' && c != '"') {
                out.append(c);
                i++;
                continue;
            }
            int j = i + 1;
            while (j < n && body.charAt(j) != c) j += body.charAt(j) == '\\' ? 2 : 1;
            if (j >= n) { // unterminated: leave it for the parser to report
                out.append(body, i, n);
                break;
            }
            String decoded = decodePython(body.substring(i + 1, j));
            out.append(c);
            for (int k = 0; k < decoded.length(); k++) {
                char d = decoded.charAt(k);
                switch (d) {
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\t' -> out.append("\\t");
                    case '\r' -> out.append("\\r");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (d == c) out.append('\\');
                        out.append(d);
                    }
                }
            }
            out.append(c);
            i = j + 1;
        }
        return out.toString();
    }

    /** Python's backslash escapes in a string literal's text. */
    static String decodePython(String t) {
        if (t.indexOf('\\') < 0) return t;
        StringBuilder sb = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c != '\\' || i + 1 >= t.length()) {
                sb.append(c);
                continue;
            }
            char e = t.charAt(++i);
            switch (e) {
                case '\n' -> { } // backslash-newline: a line continuation
                case '\\', '\'', '"' -> sb.append(e);
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'x', 'u', 'U' -> {
                    int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    int cp = hex(t, i + 1, len);
                    if (cp < 0 || cp > Character.MAX_CODE_POINT) {
                        sb.append('\\').append(e); // Python rejects it; keep the text for the reader
                    } else {
                        sb.appendCodePoint(cp);
                        i += len;
                    }
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        int k = 1;
                        while (k < 3 && i + 1 < t.length() && t.charAt(i + 1) >= '0' && t.charAt(i + 1) <= '7') {
                            v = v * 8 + (t.charAt(++i) - '0');
                            k++;
                        }
                        sb.append((char) v);
                    } else {
                        sb.append('\\').append(e); // unknown escapes stay as written
                    }
                }
            }
        }
        return sb.toString();
    }

    private static int hex(String t, int from, int len) {
        if (from + len > t.length()) return -1;
        int v = 0;
        for (int k = from; k < from + len; k++) {
            int d = Character.digit(t.charAt(k), 16);
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        return v;
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

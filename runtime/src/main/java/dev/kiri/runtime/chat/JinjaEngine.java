package dev.kiri.runtime.chat;

import java.lang.reflect.Array;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.AdvancedFilter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.IfTag;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.tree.ExpressionNode;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.parse.ExpressionToken;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.TreeBuilderException;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * The one Jinjava instance behind every {@link ChatTemplate}, configured to render the way Hugging
 * Face {@code transformers} renders chat templates with Jinja2 (see docs/TEMPLATES.md for each
 * difference and its bridge). Thread-safe: a render gets its own interpreter and context.
 */
final class JinjaEngine {
    /** Context variable holding the per-render {@link RenderState}. */
    static final String STATE = "__kiri_render_state";
    /** The function a {@code {% for ... if cond %}} loop is rewritten to call (see {@link TemplateSource}). */
    static final String LOOP_FILTER_FUNCTION = "__kiri_loop_filter";
    /** The function every {@code for} loop's iterable is passed through (see {@link TemplateSource}). */
    static final String ITER_FUNCTION = "__kiri_iter";
    /** The function {@code loop.previtem}/{@code loop.nextitem} are rewritten to call (see {@link TemplateSource}). */
    static final String ITEM_FUNCTION = "__kiri_item";
    /** The function {@code x[a:b:c]} is parsed into (see {@link PythonSyntax}). */
    static final String SLICE_FUNCTION = "__kiri_slice";

    private static final int MAX_OUTPUT_CHARS = 64 << 20;

    static final JinjavaConfig CONFIG = JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(false)        // done by TemplateSource, only at the start of a line as in Jinja2
            // Jinja2 drops a single trailing newline of the template source; TemplateSource does that,
            // so the engine must not also cut one from the output
            .withKeepTrailingNewline(true)
            .withMaxOutputSize(MAX_OUTPUT_CHARS)
            .withRangeLimit(100_000)        // Jinja2's sandbox allows range() up to 100,000 items
            .withMaxListSize(1_000_000)
            .withMaxMapSize(1_000_000)
            // never render the text a variable holds: message content is data, not template source
            .withNestedInterpretationEnabled(false)
            .withEnableFilterChainOptimization(true)   // filters called directly, not by reflection per call
            .withEnableRecursiveMacroCalls(true)
            .withMaxMacroRecursionDepth(64)
            .withElResolver(new CompositeELResolver() {
                {
                    add(new PythonMethods());
                    add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
                }
            })
            .withLegacyOverrides(LegacyOverrides.newBuilder()
                    .withUseTrimmingForNotesAndExpressions(true)   // {{- ... -}} and {#- ... -#} trim like {%- -%}
                    .withParseWhitespaceControlStrictly(true)
                    .withUseNaturalOperatorPrecedence(true)        // filters bind tighter than arithmetic
                    .withEvaluateMapKeys(true)                      // {key: v} evaluates key as an expression
                    .withIterateOverMapKeys(true)                   // for k in dict iterates keys
                    .withKeepNullableLoopValues(true)
                    .withHandleBackslashInQuotesOnly(true)
                    .withUsePyishObjectMapper(true)
                    .withAllowAdjacentTextNodes(true)
                    .build())
            .build();

    static final Jinjava JINJAVA = new PythonJinjava(CONFIG);
    /**
     * The context every render's context descends from: Jinjava's built-in library plus ours,
     * registered once. (Jinjava's own {@code getGlobalContextCopy()} rebuilds the whole library by
     * reflection for every render, which cost more than the render itself.)
     */
    static final Context BASE = createBase();

    private JinjaEngine() {
    }

    /** Jinjava with {@link PythonSyntax} and Python truthiness in its expression factory. */
    private static final class PythonJinjava extends Jinjava {
        private final ExpressionFactory factory;

        PythonJinjava(JinjavaConfig config) {
            super(config);
            Properties p = new Properties();
            p.setProperty(TreeBuilder.class.getName(), PythonSyntax.class.getName());
            this.factory = new ExpressionFactoryImpl(p, new PythonTruth());
        }

        @Override
        public ExpressionFactory getExpressionFactory() {
            return factory;
        }
    }

    private static Context createBase() {
        Context g = new SharedBase();
        // expressions bind functions from the engine's global context, tags and filters come from ours
        for (Context c : List.of(g, JINJAVA.getGlobalContext())) {
            c.registerFunction(function("raise_exception", "raiseException", Object.class));
            c.registerFunction(function("strftime_now", "strftimeNow", String.class));
            c.registerFunction(function(LOOP_FILTER_FUNCTION, "loopFilter", Object.class, long.class));
            c.registerFunction(function(SLICE_FUNCTION, "slice", Object.class, Object.class, Object.class, Object.class));
            c.registerFunction(function(ITER_FUNCTION, "iter", Object.class));
            c.registerFunction(function(ITEM_FUNCTION, "item", Object.class, long.class));
        }
        g.registerFilter(new ToJson());
        g.registerFilter(new Trim());
        g.registerFilter(new Items());
        g.registerFilter(new Indent());
        g.registerFilter(new StringFilter());
        g.registerFilter(new Length());
        g.registerExpTest(new Iterable());
        g.registerExpTest(new IsNone());
        g.registerTag(new PythonIfTag());
        return g;
    }

    /**
     * A library-holding root shared by concurrent renders: the bookkeeping Jinjava pushes up to
     * parent contexts (resolved expressions, dependencies) stops here instead of piling up in
     * shared, unsynchronised sets.
     */
    private static final class SharedBase extends Context {
        SharedBase() {
            super(null, null, CONFIG.getDisabled());
        }

        @Override
        public void addResolvedExpression(String expression) {
        }

        @Override
        public void addResolvedValue(String value) {
        }

        @Override
        public void addResolvedFunction(String function) {
        }

        @Override
        public void addDependency(String type, String identification) {
        }

        @Override
        public void addDependencies(com.google.common.collect.SetMultimap<String, String> dependencies) {
        }
    }

    private static ELFunctionDefinition function(String name, String method, Class<?>... params) {
        return new ELFunctionDefinition("", name, JinjaEngine.class, method, params);
    }

    /** An interpreter that prints values the way Python's {@code str()} does ({@link PyStr}). */
    static final class PythonInterpreter extends JinjavaInterpreter {
        PythonInterpreter(Context context) {
            super(JINJAVA, context, CONFIG);
        }

        @Override
        public String getAsString(Object object) {
            return PyStr.str(object);
        }
    }

    /** Everything one render needs besides the template's variables. */
    static final class RenderState {
        final LocalDateTime now;
        final List<TemplateSource.LoopFilter> loopFilters;
        String raised;

        RenderState(LocalDateTime now, List<TemplateSource.LoopFilter> loopFilters) {
            this.now = now;
            this.loopFilters = loopFilters;
        }
    }

    /**
     * Renders a parsed template. Template errors (a raise_exception call first, then any fatal
     * engine error) become a {@link ChatTemplateException} naming the template.
     */
    static String render(String templateName, Node root, Map<String, Object> bindings, RenderState state) {
        Context context = new StrictContext(BASE, bindings);
        context.put(STATE, state);
        JinjavaInterpreter interpreter = new PythonInterpreter(context);
        JinjavaInterpreter.pushCurrent(interpreter);
        String out;
        try {
            out = interpreter.render(root, false);
        } catch (RuntimeException e) {
            if (state.raised != null) throw ChatTemplateException.raised(state.raised);
            throw new ChatTemplateException("chat template " + templateName + ": " + e.getMessage(), e);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        if (state.raised != null) throw ChatTemplateException.raised(state.raised);
        failOnErrors(templateName, interpreter.getErrors());
        return out;
    }

    /** Parses a template source; syntax errors become a {@link ChatTemplateException}. */
    static Node parse(String templateName, String source) {
        JinjavaInterpreter interpreter = new PythonInterpreter(new Context(BASE, null, CONFIG.getDisabled()));
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            Node root = interpreter.parse(source);
            failOnErrors(templateName, interpreter.getErrors());
            checkExpressions(templateName, root);
            return root;
        } catch (ChatTemplateException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ChatTemplateException("chat template " + templateName + ": syntax error: " + e.getMessage(), e);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    private static final PythonSyntax SYNTAX = new PythonSyntax(Builder.Feature.METHOD_INVOCATIONS, Builder.Feature.VARARGS);

    /**
     * Jinjava parses an expression only when it is first evaluated; Jinja2 rejects a syntax error
     * when the template is loaded. So every {@code {{ ... }}} and {@code if}/{@code elif} condition
     * is parsed once here (parsing only: names and functions are looked up at render time).
     */
    private static void checkExpressions(String templateName, Node node) {
        String expression = null;
        if (node instanceof ExpressionNode && node.getMaster() instanceof ExpressionToken t) {
            expression = t.getExpr();
        } else if (node instanceof TagNode tag && (tag.getName().equals("if") || tag.getName().equals("elif"))) {
            expression = tag.getHelpers();
        }
        if (expression != null && !expression.isBlank()) {
            try {
                SYNTAX.build("#{" + expression.trim() + "}");
            } catch (TreeBuilderException e) {
                throw new ChatTemplateException("chat template " + templateName + ": line " + node.getLineNumber()
                        + ": syntax error in '" + expression.trim() + "': " + e.getMessage());
            }
        }
        for (Node child : node.getChildren()) checkExpressions(templateName, child);
    }

    private static void failOnErrors(String templateName, List<TemplateError> errors) {
        List<String> fatal = new ArrayList<>();
        for (TemplateError e : errors) {
            // reading a missing attribute gives undefined in Jinja2 too; everything else is an error there
            boolean undefinedAttribute = e.getSeverity() == TemplateError.ErrorType.WARNING
                    && e.getReason() == TemplateError.ErrorReason.UNKNOWN && e.getItem() == TemplateError.ErrorItem.PROPERTY;
            if (!undefinedAttribute) {
                fatal.add((e.getLineno() > 0 ? "line " + e.getLineno() + ": " : "") + e.getMessage());
            }
        }
        if (!fatal.isEmpty()) {
            throw new ChatTemplateException("chat template " + templateName + ": " + String.join("; ", fatal));
        }
    }

    private static RenderState state() {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        Object s = interpreter == null ? null : interpreter.getContext().get(STATE);
        if (!(s instanceof RenderState rs)) throw new IllegalStateException("chat template function called outside a render");
        return rs;
    }

    // ---- functions (public static: Jinjava calls them reflectively) ----

    /** {@code raise_exception(message)}: the render fails with exactly this message. */
    public static Object raiseException(Object message) {
        RenderState s = state();
        if (s.raised == null) s.raised = message == null ? "None" : message.toString();
        throw new IllegalStateException(s.raised);
    }

    /** {@code strftime_now(format)}: the render's clock formatted like Python's strftime. */
    public static String strftimeNow(String format) {
        return Strftime.format(format == null ? "" : format, state().now);
    }

    /**
     * The items of {@code iterable} for which a {@code {% for vars in iterable if condition %}} loop's
     * condition holds, evaluated with the loop variables bound, so that {@code loop.index} and
     * {@code loop.last} count only those items as in Jinja2.
     */
    public static Object loopFilter(Object iterable, long index) {
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        TemplateSource.LoopFilter f = state().loopFilters.get((int) index);
        List<Object> kept = new ArrayList<>();
        ForLoop loop = ObjectIterator.getLoop(iter(iterable));
        while (loop.hasNext()) {
            Object item = loop.next();
            try (JinjavaInterpreter.InterpreterScopeClosable scope = interpreter.enterScope()) {
                bind(interpreter.getContext(), f.vars(), item);
                Object v = interpreter.resolveELExpression(f.condition(), interpreter.getLineNumber());
                if (PythonTruth.isTrue(v)) kept.add(item);
            }
        }
        return kept;
    }

    /**
     * What a {@code for} loop iterates, as Python iterates it: a string's characters (code points),
     * a mapping's keys, nothing for null (undefined).
     */
    public static Object iter(Object iterable) {
        if (iterable == null) return new ArrayList<>();
        if (iterable == PyNone.NONE) throw new IllegalArgumentException("'NoneType' object is not iterable");
        if (iterable instanceof CharSequence || iterable instanceof SafeString) {
            String s = iterable.toString();
            List<Object> chars = new ArrayList<>(s.length());
            s.codePoints().forEach(c -> chars.add(Character.toString(c)));
            return chars;
        }
        if (iterable instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        return iterable;
    }

    /** A loop's neighbouring item: {@code items[index]}, undefined (null) outside the list. */
    public static Object item(Object items, long index) {
        List<?> list = items instanceof List<?> l ? l : PyJson.asList(items);
        if (list == null || index < 0 || index >= list.size()) return null;
        return list.get((int) index);
    }

    /**
     * Python's {@code seq[start:stop:step]} on a list (a new list), a string (by code point) or any
     * other sequence; null bounds are left out, negative ones count from the end.
     */
    public static Object slice(Object seq, Object start, Object stop, Object step) {
        if (seq == null) return null;
        if (start == PyNone.NONE) start = null;
        if (stop == PyNone.NONE) stop = null;
        if (step == PyNone.NONE) step = null;
        long st = step == null ? 1 : toLong(step, "slice step");
        if (st == 0) throw new IllegalArgumentException("slice step cannot be zero");
        if (seq instanceof CharSequence cs) {
            int[] cps = cs.toString().codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i : sliceIndices(cps.length, start, stop, st)) sb.appendCodePoint(cps[i]);
            return sb.toString();
        }
        List<?> list = seq instanceof Map<?, ?> m ? new ArrayList<>(m.keySet()) : PyJson.asList(seq);
        if (list == null) throw new IllegalArgumentException("'" + seq.getClass().getSimpleName() + "' object is not subscriptable");
        List<Object> out = new com.hubspot.jinjava.objects.collections.PyList(new ArrayList<>());
        for (int i : sliceIndices(list.size(), start, stop, st)) out.add(list.get(i));
        return out;
    }

    private static int[] sliceIndices(int len, Object startArg, Object stopArg, long step) {
        long start;
        long stop;
        if (step > 0) {
            start = startArg == null ? 0 : clamp(toLong(startArg, "slice start"), len, 0, len);
            stop = stopArg == null ? len : clamp(toLong(stopArg, "slice stop"), len, 0, len);
        } else {
            start = startArg == null ? len - 1 : clamp(toLong(startArg, "slice start"), len, -1, len - 1);
            stop = stopArg == null ? -1 : clamp(toLong(stopArg, "slice stop"), len, -1, len - 1);
        }
        int n = 0;
        int[] idx = new int[len];
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) idx[n++] = (int) i;
        return java.util.Arrays.copyOf(idx, n);
    }

    private static long clamp(long i, int len, long lo, long hi) {
        if (i < 0) i += len;
        return Math.max(lo, Math.min(hi, i));
    }

    private static long toLong(Object o, String what) {
        if (o instanceof Number n) return n.longValue();
        throw new IllegalArgumentException(what + " must be an integer or None, not " + o.getClass().getSimpleName());
    }

    private static void bind(Context context, List<String> vars, Object item) {
        if (vars.size() == 1) {
            context.put(vars.get(0), item);
            return;
        }
        List<?> parts = item instanceof Map.Entry<?, ?> e ? java.util.Arrays.asList(e.getKey(), e.getValue()) : PyJson.asList(item);
        if (parts == null || parts.size() != vars.size()) {
            throw new IllegalArgumentException("cannot unpack " + (parts == null ? "a non-sequence" : parts.size() + " values") + " into " + vars);
        }
        for (int i = 0; i < vars.size(); i++) context.put(vars.get(i), parts.get(i));
    }

    // ---- filters, tags, truthiness ----

    /**
     * Hugging Face's {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}:
     * {@code json.dumps} with those arguments.
     */
    static final class ToJson implements AdvancedFilter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object ensureAscii = arg(args, kwargs, 0, "ensure_ascii");
            Object indent = arg(args, kwargs, 1, "indent");
            Object separators = arg(args, kwargs, 2, "separators");
            Object sortKeys = arg(args, kwargs, 3, "sort_keys");
            String json = new PyJson(indent, separators, PythonTruth.isTrue(sortKeys)).write(var);
            return PythonTruth.isTrue(ensureAscii) ? asciiOnly(json) : json;
        }

        private static Object arg(Object[] args, Map<String, Object> kwargs, int i, String name) {
            if (kwargs != null && kwargs.containsKey(name)) return kwargs.get(name);
            return args != null && args.length > i ? args[i] : null;
        }

        private static String asciiOnly(String json) {
            StringBuilder sb = new StringBuilder(json.length());
            for (int i = 0; i < json.length(); i++) {
                char c = json.charAt(i);
                if (c < 0x80) sb.append(c);
                else sb.append(String.format("\\u%04x", (int) c));
            }
            return sb.toString();
        }
    }

    /** Jinja2's {@code trim(value, chars=None)} is Python's {@code str.strip}: all Unicode whitespace. */
    static final class Trim implements AdvancedFilter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object chars = kwargs != null && kwargs.containsKey("chars") ? kwargs.get("chars") : (args != null && args.length > 0 ? args[0] : null);
            String s = var == null ? "None" : interpreter.getAsString(var);
            return PythonMethods.strip(s, chars == null ? null : chars.toString(), true, true);
        }
    }

    /**
     * Jinja2's {@code indent(width=4, first=False, blank=False)}: lines after the first are indented
     * (the first too with {@code first}), blank lines only with {@code blank}; a string width is
     * used as the indentation text.
     */
    static final class Indent implements AdvancedFilter {
        @Override
        public String getName() {
            return "indent";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object width = arg(args, kwargs, 0, "width", 4L);
            boolean first = PythonTruth.isTrue(arg(args, kwargs, 1, "first", kwargs != null ? kwargs.get("indentfirst") : null));
            boolean blank = PythonTruth.isTrue(arg(args, kwargs, 2, "blank", null));
            String indention = width instanceof Number w ? " ".repeat((int) Math.max(0, Math.min(w.longValue(), 1024))) : PyStr.str(width);
            List<Object> lines = PythonMethods.splitlines(PyStr.str(var) + "\n");
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                if (i > 0) {
                    sb.append('\n');
                    if (blank || !line.isEmpty()) sb.append(indention);
                }
                sb.append(line);
            }
            return first ? indention + sb : sb.toString();
        }

        private static Object arg(Object[] args, Map<String, Object> kwargs, int i, String name, Object dflt) {
            if (kwargs != null && kwargs.containsKey(name)) return kwargs.get(name);
            if (args != null && args.length > i) return args[i];
            return dflt;
        }
    }

    /** {@code |string}: Python's {@code str()}. */
    static final class StringFilter implements AdvancedFilter {
        @Override
        public String getName() {
            return "string";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            return var instanceof SafeString ? var : PyStr.str(var);
        }
    }

    /** {@code |length} (and {@code |count}): strings count code points, as Python's {@code len}. */
    static final class Length implements AdvancedFilter {
        private final com.hubspot.jinjava.lib.filter.LengthFilter jinjava = new com.hubspot.jinjava.lib.filter.LengthFilter();

        @Override
        public String getName() {
            return "length";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var instanceof String s) return (long) s.codePointCount(0, s.length());
            if (var instanceof SafeString s) return (long) s.getValue().codePointCount(0, s.getValue().length());
            return jinjava.filter(var, interpreter);
        }
    }

    /** {@code is none}: only Python's None ({@link PyNone}); an undefined value is not none. */
    static final class IsNone implements com.hubspot.jinjava.lib.exptest.ExpTest {
        @Override
        public String getName() {
            return "none";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var == PyNone.NONE;
        }
    }

    /** {@code is iterable}: strings, mappings and sequences are, as in Python. */
    static final class Iterable implements com.hubspot.jinjava.lib.exptest.ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof SafeString || var instanceof java.lang.Iterable<?>
                    || var instanceof Map<?, ?> || var instanceof Iterator<?> || (var != null && var.getClass().isArray());
        }
    }

    /** Jinja2's {@code items} filter: a mapping's (key, value) pairs; nothing for an undefined value. */
    static final class Items implements AdvancedFilter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            if (var == null) return new ArrayList<>();
            if (!(var instanceof Map<?, ?> m)) throw new IllegalArgumentException("Can only get item pairs from a mapping.");
            List<Object> out = new ArrayList<>(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) out.add(new java.util.AbstractMap.SimpleImmutableEntry<>(e.getKey(), e.getValue()));
            return out;
        }
    }

    /** A render's root context: an unknown filter or test is an error, as in Jinja2, not a silent null. */
    static final class StrictContext extends Context {
        StrictContext(Context parent, Map<String, ?> bindings) {
            super(parent, bindings, CONFIG.getDisabled());
        }

        @Override
        public com.hubspot.jinjava.lib.exptest.ExpTest getExpTest(String name) {
            com.hubspot.jinjava.lib.exptest.ExpTest t = super.getExpTest(name);
            if (t == null) throw new IllegalArgumentException("No test named '" + name + "'.");
            return t;
        }

        @Override
        public com.hubspot.jinjava.lib.filter.Filter getFilter(String name) {
            com.hubspot.jinjava.lib.filter.Filter f = super.getFilter(name);
            if (f == null) throw new IllegalArgumentException("No filter named '" + name + "'.");
            return f;
        }
    }

    /** {@code if}/{@code elif} with Python truthiness (Jinjava treats the string "false" as false). */
    static final class PythonIfTag extends IfTag {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isPositiveIfElseNode(TagNode tagNode, JinjavaInterpreter interpreter) {
            return PythonTruth.isTrue(interpreter.resolveELExpression(tagNode.getHelpers(), tagNode.getLineNumber(), tagNode.getStartPosition()));
        }
    }

    /** Python's truth values for {@code not}, {@code and}, {@code or} and conditional expressions. */
    static final class PythonTruth extends TruthyTypeConverter {
        private static final long serialVersionUID = 1L;

        @Override
        protected Boolean coerceToBoolean(Object value) {
            return isTrue(value);
        }

        @Override
        protected String coerceToString(Object value) {
            return PyStr.str(value);
        }

        static boolean isTrue(Object o) {
            if (o == null || o == PyNone.NONE) return false;
            if (o instanceof Boolean b) return b;
            if (o instanceof Number n) return n.doubleValue() != 0;
            if (o instanceof CharSequence s) return !s.isEmpty();
            if (o instanceof SafeString s) return !s.toString().isEmpty();
            if (o instanceof Collection<?> c) return !c.isEmpty();
            if (o instanceof Map<?, ?> m) return !m.isEmpty();
            if (o instanceof Iterator<?> it) return it.hasNext();
            if (o.getClass().isArray()) return Array.getLength(o) != 0;
            return true;
        }
    }
}

package dev.kiri.runtime.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.util.HasObjectTruthValue;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstLiteral;
import jinjava.javax.el.ELContext;

/**
 * Python's {@code None} inside a render. Jinjava has only Java's null, which it also uses for
 * undefined values; Jinja2 tells them apart ({@code x is defined} is true for None, {@code x is none}
 * is false for an undefined x, None prints as {@code None}, undefined as nothing). So the template's
 * {@code none}/{@code None} literal, {@code dict.get} of a missing key and every null in the
 * caller's messages and tools become this value, and null keeps meaning undefined.
 */
final class PyNone implements HasObjectTruthValue {
    static final PyNone NONE = new PyNone();

    private PyNone() {
    }

    @Override
    public boolean getObjectTruthValue() {
        return false;
    }

    @Override
    public String toString() {
        return "None";
    }

    /** The {@code none} literal in an expression. */
    static final class Literal extends AstLiteral {
        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return NONE;
        }

        @Override
        public void appendStructure(StringBuilder b, Bindings bindings) {
            b.append("none");
        }

        @Override
        public String toString() {
            return "none";
        }
    }

    /**
     * A copy of caller data as templates see it: maps (insertion order kept) and lists copied, nulls
     * turned into {@link #NONE}, so templates can neither change the caller's objects nor confuse
     * None with undefined.
     */
    static Object fromJava(Object v) {
        return fromJava(v, 0);
    }

    private static Object fromJava(Object v, int depth) {
        if (depth > 256) throw new IllegalArgumentException("template variables nested deeper than 256 levels (a cycle?)");
        if (v == null) return NONE;
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>(Math.max(4, m.size() * 2));
            for (Map.Entry<?, ?> e : m.entrySet()) out.put(e.getKey(), fromJava(e.getValue(), depth + 1));
            return out;
        }
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object o : c) out.add(fromJava(o, depth + 1));
            return out;
        }
        if (v instanceof Object[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (Object o : a) out.add(fromJava(o, depth + 1));
            return out;
        }
        return v;
    }
}

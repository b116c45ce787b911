package dev.kiri.runtime.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import java.util.ArrayList;
import java.util.List;

import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstNull;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * Jinjava's expression syntax with three corrections towards Jinja2:
 * <ul>
 *   <li>{@code not} binds more loosely than comparisons, membership and tests, so
 *       {@code not x is defined} is {@code not (x is defined)} and {@code not a == b} is
 *       {@code not (a == b)}. Jinjava (like Java EL) binds it tightly, which turns
 *       {@code not add_generation_prompt is defined} into {@code (not add_generation_prompt) is defined}.</li>
 *   <li>A keyword argument's value is a whole expression: {@code namespace(i=messages|length - 1)}.
 *       Jinjava parses {@code =} as an operator at the level of {@code +}, giving {@code (i=...) - 1}.</li>
 *   <li>Slices have Python's full form and meaning, {@code x[start:stop:step]} with any part left out
 *       and negative values counting from the end ({@code messages[::-1]}, {@code text[:-1]}), on lists
 *       and strings; they are parsed into a call of {@link JinjaEngine#slice}.</li>
 *   <li>{@code +} with a {@code |safe} string on one side escapes the other side's HTML characters, as
 *       Python's {@code Markup.__add__} does (functionary's template relies on it); see
 *       {@link MarkupAddition}.</li>
 *   <li>{@code none} and {@code None} are Python's None ({@link PyNone}), not an undefined name.</li>
 *   <li>{@code and} returns an operand, {@code *} repeats strings and lists, {@code %} formats
 *       strings ({@link PythonOperators}).</li>
 * </ul>
 */
public final class PythonSyntax extends ExtendedSyntaxBuilder {
    private static final long serialVersionUID = 1L;

    /** Used by the expression factory, which instantiates the builder by class name. */
    public PythonSyntax() {
        super();
    }

    /** Used by the expression factory, which instantiates the builder by class name. */
    public PythonSyntax(Feature... features) {
        super(features);
    }

    @Override
    protected Parser createParser(String expression) {
        return new NotParser(this, expression);
    }

    private static final class NotParser extends ExtendedParser {
        NotParser(Builder context, String input) {
            super(context, input);
        }

        @Override
        protected AstParameters params(Scanner.Symbol left, Scanner.Symbol right) throws Scanner.ScanException, ParseException {
            consumeToken(left);
            List<AstNode> args = new ArrayList<>();
            if (getToken().getSymbol() != right) {
                args.add(argument());
                while (getToken().getSymbol() == Scanner.Symbol.COMMA) {
                    consumeToken();
                    if (getToken().getSymbol() == right) break; // a trailing comma, as Python allows
                    args.add(argument());
                }
            }
            consumeToken(right);
            return createAstParameters(args);
        }

        private AstNode argument() throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Scanner.Symbol.IDENTIFIER && "=".equals(lookahead(0).getImage())) {
                String name = consumeToken().getImage();
                consumeToken(); // '='
                return new AstNamedParameter(identifier(name), expr(true));
            }
            return expr(true);
        }

        @Override
        protected AstNode nonliteral() throws Scanner.ScanException, ParseException {
            Scanner.Token t = getToken();
            if (t.getSymbol() == Scanner.Symbol.IDENTIFIER && ("none".equals(t.getImage()) || "None".equals(t.getImage()))
                    && lookahead(0).getSymbol() != Scanner.Symbol.LPAREN) {
                consumeToken();
                return new PyNone.Literal();
            }
            return super.nonliteral();
        }

        @Override
        protected AstNode value() throws Scanner.ScanException, ParseException {
            boolean lvalue = true;
            AstNode v = nonliteral();
            if (v == null) {
                v = literal();
                if (v == null) return null;
                lvalue = false;
            }
            while (true) {
                switch (getToken().getSymbol()) {
                    case DOT -> {
                        consumeToken();
                        String name = consumeToken(Scanner.Symbol.IDENTIFIER).getImage();
                        AstDot dot = createAstDot(v, name, lvalue);
                        v = getToken().getSymbol() == Scanner.Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)
                                ? createAstMethod(dot, params()) : dot;
                    }
                    case LBRACK -> v = subscript(v, lvalue);
                    default -> {
                        // operators (filters, tests) are applied by the caller: natural precedence is on
                        return v;
                    }
                }
            }
        }

        private AstNode subscript(AstNode base, boolean lvalue) throws Scanner.ScanException, ParseException {
            consumeToken(); // '['
            AstNode start = getToken().getSymbol() == Scanner.Symbol.COLON ? null : expr(true);
            if (getToken().getSymbol() == Scanner.Symbol.RBRACK) {
                consumeToken();
                AstBracket bracket = createAstBracket(base, start, lvalue, !context.isEnabled(Builder.Feature.NULL_PROPERTIES));
                return getToken().getSymbol() == Scanner.Symbol.LPAREN && context.isEnabled(Builder.Feature.METHOD_INVOCATIONS)
                        ? createAstMethod(bracket, params()) : bracket;
            }
            consumeToken(Scanner.Symbol.COLON);
            AstNode stop = sliceBound();
            AstNode step = null;
            if (getToken().getSymbol() == Scanner.Symbol.COLON) {
                consumeToken();
                step = sliceBound();
            }
            consumeToken(Scanner.Symbol.RBRACK);
            return function(JinjaEngine.SLICE_FUNCTION, createAstParameters(List.of(base, orNull(start), orNull(stop), orNull(step))));
        }

        private AstNode sliceBound() throws Scanner.ScanException, ParseException {
            Scanner.Symbol s = getToken().getSymbol();
            return s == Scanner.Symbol.COLON || s == Scanner.Symbol.RBRACK ? null : expr(true);
        }

        private static AstNode orNull(AstNode n) {
            return n == null ? new AstNull() : n;
        }

        @Override
        protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
            AstBinary.Operator op = operator;
            if (operator == AdditionOperator.OP) op = MarkupAddition.OP;
            else if (operator == AstBinary.AND) op = PythonOperators.AND;
            else if (operator == AstBinary.MUL) op = PythonOperators.MUL;
            else if (operator == AstBinary.MOD) op = PythonOperators.MOD;
            return super.createAstBinary(left, right, op);
        }

        @Override
        protected AstNode unary(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Scanner.Symbol.NOT) {
                consumeToken();
                // the operand reaches over comparisons (eq includes cmp, in, is and filters), not over and/or
                return createAstUnary(eq(true), AstUnary.NOT);
            }
            return super.unary(required);
        }
    }
}

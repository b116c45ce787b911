package dev.kiri.runtime.cli;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/** One flat JSON object written in insertion order: strings, numbers and number arrays. */
final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    Json put(String key, String value) {
        key(key);
        quote(value);
        return this;
    }

    Json put(String key, long value) {
        key(key);
        sb.append(value);
        return this;
    }

    Json put(String key, double value) {
        key(key);
        number(value);
        return this;
    }

    Json put(String key, double[] values) {
        key(key);
        sb.append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) sb.append(", ");
            number(values[i]);
        }
        sb.append(']');
        return this;
    }

    private void key(String key) {
        if (sb.length() > 1) sb.append(", ");
        quote(key);
        sb.append(": ");
    }

    private void number(double v) {
        // Six significant digits; BigDecimal's form ("1.5", "2.4E+9") is valid JSON.
        if (Double.isFinite(v)) sb.append(new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toString());
        else sb.append("null");
    }

    private void quote(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return sb + "}";
    }
}

package dev.kiri.runtime.cli;

import dev.kiri.runtime.chat.JsonText;
import java.math.BigDecimal;
import java.math.MathContext;

/** One flat JSON object written in insertion order: strings, numbers, booleans and number arrays. */
final class Json {
    private final StringBuilder sb = new StringBuilder("{");

    Json put(String key, String value) {
        key(key);
        quote(value);
        return this;
    }

    Json put(String key, boolean value) {
        key(key);
        sb.append(value);
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
        JsonText.appendQuoted(sb, s);
    }

    @Override
    public String toString() {
        return sb + "}";
    }
}

package dev.kiri.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order. Typed getters fail with a
 * {@link GgufFormatException}-style {@link IllegalArgumentException} naming the key when a
 * value is missing or of the wrong type; {@code opt*} variants return empty when missing.
 */
public final class GgufMetadata {
    private final String source;
    private final Map<String, GgufValue> values;

    public GgufMetadata(String source, Map<String, GgufValue> values) {
        this.source = source;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Every entry, in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public String getString(String key) {
        return optString(key).orElseThrow(() -> missing(key, "string"));
    }

    public Optional<String> optString(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.type() != GgufValueType.STRING) throw wrongType(key, v, "string");
        return Optional.of((String) v.value());
    }

    public long getLong(String key) {
        return optLong(key).orElseThrow(() -> missing(key, "integer"));
    }

    /** Any integer type (and BOOL as 0/1). */
    public Optional<Long> optLong(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.type().isInteger()) return Optional.of((Long) v.value());
        if (v.type() == GgufValueType.BOOL) return Optional.of((Boolean) v.value() ? 1L : 0L);
        throw wrongType(key, v, "integer");
    }

    public int getInt(String key) {
        return toInt(key, getLong(key));
    }

    public Optional<Integer> optInt(String key) {
        return optLong(key).map(l -> toInt(key, l));
    }

    private int toInt(String key, long l) {
        if (l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": metadata " + key + " = " + l + " does not fit in an int");
        }
        return (int) l;
    }

    public float getFloat(String key) {
        return optFloat(key).orElseThrow(() -> missing(key, "number"));
    }

    /** FLOAT32, FLOAT64 or any integer type. */
    public Optional<Float> optFloat(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        return switch (v.type()) {
            case FLOAT32 -> Optional.of((Float) v.value());
            case FLOAT64 -> Optional.of(((Double) v.value()).floatValue());
            default -> {
                if (v.type().isInteger()) yield Optional.of(((Long) v.value()).floatValue());
                throw wrongType(key, v, "number");
            }
        };
    }

    public boolean getBoolean(String key) {
        return optBoolean(key).orElseThrow(() -> missing(key, "bool"));
    }

    public Optional<Boolean> optBoolean(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.type() == GgufValueType.BOOL) return Optional.of((Boolean) v.value());
        if (v.type().isInteger()) return Optional.of((Long) v.value() != 0);
        throw wrongType(key, v, "bool");
    }

    public GgufArray getArray(String key) {
        return optArray(key).orElseThrow(() -> missing(key, "array"));
    }

    public Optional<GgufArray> optArray(String key) {
        GgufValue v = values.get(key);
        if (v == null) return Optional.empty();
        if (v.type() != GgufValueType.ARRAY) throw wrongType(key, v, "array");
        return Optional.of((GgufArray) v.value());
    }

    /** An array of strings (e.g. {@code tokenizer.ggml.tokens}). */
    public String[] getStringArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() != GgufValueType.STRING) {
            throw new IllegalArgumentException(source + ": metadata " + key + " is an array of " + a.elementType()
                    + ", expected an array of STRING");
        }
        return (String[]) a.values();
    }

    /** An array of FLOAT32 (or other numbers, converted), e.g. {@code tokenizer.ggml.scores}. */
    public float[] getFloatArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() == GgufValueType.FLOAT32) return (float[]) a.values();
        if (a.elementType() == GgufValueType.STRING || a.elementType() == GgufValueType.ARRAY) {
            throw new IllegalArgumentException(source + ": metadata " + key + " is an array of " + a.elementType()
                    + ", expected numbers");
        }
        float[] out = new float[a.length()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.getDouble(i);
        return out;
    }

    /** An array of integers of any width (e.g. {@code tokenizer.ggml.token_type}). */
    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        if (a.elementType() == GgufValueType.INT32 || a.elementType() == GgufValueType.UINT32) {
            return (int[]) a.values();
        }
        if (!a.elementType().isInteger() && a.elementType() != GgufValueType.BOOL) {
            throw new IllegalArgumentException(source + ": metadata " + key + " is an array of " + a.elementType()
                    + ", expected integers");
        }
        int[] out = new int[a.length()];
        for (int i = 0; i < out.length; i++) out[i] = (int) a.getLong(i);
        return out;
    }

    private IllegalArgumentException missing(String key, String what) {
        return new IllegalArgumentException(source + ": metadata key " + key + " (" + what + ") is missing");
    }

    private IllegalArgumentException wrongType(String key, GgufValue v, String expected) {
        return new IllegalArgumentException(source + ": metadata " + key + " is " + v.type() + ", expected " + expected);
    }

    @Override
    public String toString() {
        return "GgufMetadata[" + values.size() + " keys]";
    }
}

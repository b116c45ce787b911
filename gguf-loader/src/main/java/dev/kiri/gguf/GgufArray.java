package dev.kiri.gguf;

import java.lang.reflect.Array;
import java.util.Objects;

/**
 * A metadata array. {@code values} is a primitive array matching the element type: byte[] for
 * (U)INT8, short[] for (U)INT16, int[] for (U)INT32, long[] for (U)INT64, float[], double[],
 * boolean[], String[], or GgufArray[] for nested arrays. Unsigned values keep their bits.
 */
public record GgufArray(GgufValueType elementType, Object values) {
    public GgufArray {
        Objects.requireNonNull(elementType);
        Objects.requireNonNull(values);
        if (!values.getClass().isArray()) throw new IllegalArgumentException("not an array: " + values.getClass());
    }

    public int length() {
        return Array.getLength(values);
    }

    /** Element {@code i} as a long, for integer element types (unsigned types widened without sign). */
    public long getLong(int i) {
        return switch (elementType) {
            case UINT8 -> ((byte[]) values)[i] & 0xFFL;
            case INT8 -> ((byte[]) values)[i];
            case UINT16 -> ((short[]) values)[i] & 0xFFFFL;
            case INT16 -> ((short[]) values)[i];
            case UINT32 -> ((int[]) values)[i] & 0xFFFFFFFFL;
            case INT32 -> ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            case BOOL -> ((boolean[]) values)[i] ? 1 : 0;
            default -> throw new IllegalStateException("array of " + elementType + " has no integer elements");
        };
    }

    /** Element {@code i} as a double, for numeric element types. */
    public double getDouble(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            default -> getLong(i);
        };
    }

    @Override
    public String toString() {
        return elementType + "[" + length() + "]";
    }
}

package dev.kiri.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its directory entry and its bytes, a zero-copy slice of the mapped
 * file. {@code shape[0]} ({@code ne0}) is the contiguous dimension: a 2-D weight of
 * {@code shape = [cols, rows]} holds {@code rows} rows of {@code cols} elements.
 *
 * @param name       tensor name
 * @param type       element type
 * @param shape      dimensions, ne0 first (1 to 4 of them)
 * @param fileOffset absolute byte offset of the data in its file (shard)
 * @param data       the bytes, {@code type.byteSize(elementCount())} long
 */
public record GgufTensor(String name, GgmlType type, long[] shape, long fileOffset, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** ne0: the length of one row. */
    public long rowLength() {
        return shape[0];
    }

    /** The number of rows: the product of every dimension but the first. */
    public long rows() {
        long n = 1;
        for (int i = 1; i < shape.length; i++) n *= shape[i];
        return n;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(shape[0]);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public String toString() {
        return name + " " + type.ggmlName() + " " + Arrays.toString(shape);
    }
}

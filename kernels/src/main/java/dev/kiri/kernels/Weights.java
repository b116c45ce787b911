package dev.kiri.kernels;

import dev.kiri.gguf.GgmlType;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.kernels.matmul.Interleave;
import java.lang.foreign.MemorySegment;

/**
 * A weight matrix of {@code rows} rows of {@code cols} elements in a ggml type, read in place
 * (usually a slice of a mapped GGUF file). {@code y = W·x} maps a {@code cols}-vector to a
 * {@code rows}-vector. Row {@code r} starts at byte {@code r * type.byteSize(cols)}.
 *
 * <p>{@code interleaved}, when not null, holds the same matrix a second time in a layout of the
 * vector kernels' own ({@code matmul.Interleave}: Q4_0 and Q8_0 rows interleaved in groups of eight, the
 * K-quants' blocks with their bits reordered, rows of more than 6144 values in bands and column
 * chunks); products then read it instead of {@code data}, which stays the matrix in its ggml layout
 * (for row look-ups, the scalar kernels and the GPU).
 */
public record Weights(String name, GgmlType type, MemorySegment data, int rows, int cols, MemorySegment interleaved) {
    public Weights {
        if (rows < 0 || cols <= 0) throw new IllegalArgumentException(name + ": bad shape " + rows + "x" + cols);
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(name + ": row length " + cols + " is not a multiple of the "
                    + type.ggmlName() + " block size " + type.blockSize());
        }
        long need = type.byteSize((long) rows * cols);
        if (data.byteSize() < need) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes, " + rows + "x" + cols + " "
                    + type.ggmlName() + " needs " + need);
        }
    }

    /** A matrix read in place, without an interleaved copy. */
    public Weights(String name, GgmlType type, MemorySegment data, int rows, int cols) {
        this(name, type, data, rows, cols, null);
    }

    /** A 2-D (or 1-D, as one row) GGUF tensor as a weight matrix. */
    public static Weights of(GgufTensor t) {
        long rows = t.rows();
        long cols = t.rowLength();
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(t.name() + ": shape too large for a weight matrix: " + t);
        }
        return new Weights(t.name(), t.type(), t.data(), (int) rows, (int) cols);
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.byteSize(cols);
    }

    /**
     * Rows [from, from + count) as a weight matrix of their own (e.g. the parts of a fused QKV), with
     * the matching part of the interleaved copy when the copy can be cut there
     * ({@code Interleave.copySlice}: copies of long rows on their bands of 64 rows, other Q4_0 and Q8_0 copies
     * on their groups of eight rows, other K-quant copies anywhere); otherwise the slice is read in
     * place.
     */
    public Weights rowSlice(String sliceName, int from, int count) {
        if (from < 0 || count < 0 || from + count > rows) throw new IndexOutOfBoundsException(name + ": rows " + from + "+" + count + " of " + rows);
        MemorySegment part = Interleave.copySlice(this, from, count);
        return new Weights(sliceName, type, data.asSlice(from * rowBytes(), count * rowBytes()), count, cols, part);
    }

    public long byteSize() {
        return rows * rowBytes();
    }
}

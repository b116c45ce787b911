package dev.kiri.kernels.matmul;

import dev.kiri.gguf.Dequant;
import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A second copy of a weight matrix in a layout of the vector decode kernels' own
 * ({@link Weights#interleaved()}), made once when a model is loaded: Q4_0 and Q8_0 rows interleaved
 * in groups of eight, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K blocks with their bits reordered.
 *
 * <p><b>Q4_0, "Q4_0x8".</b> Groups of eight rows, one after the other; in a group, block b of the
 * eight rows takes 144 bytes at {@code (group·blocks + b)·144}: the eight rows' F16 scales as in
 * the file (row j at {@code 2j}), then four 32-byte parts, part k holding bytes {@code 4k..4k+3} of
 * each row's 16 bytes of nibbles, row j in bytes {@code 4j..4j+3}. One 256-bit load then gives the
 * same four bytes of eight rows, one row per 32-bit lane, so the kernel ({@link VectorDots#q4_0x8})
 * multiplies eight rows at once by one broadcast activation pair and ends each group with its eight
 * results in the lanes of one vector: no horizontal sums, one vector load for eight scales, the
 * activations read once for eight rows. As many bytes as the file (144 per 256 values), and one
 * sequential stream: the kernel reads every byte of the copy in order.
 *
 * <p><b>Q8_0, "Q8_0x8".</b> The same groups, 272 bytes per block of eight rows: the eight F16
 * scales, then eight 32-byte parts, part m holding values {@code 4m..4m+3} of each row's block, row j
 * in bytes {@code 4j..4j+3}: the file's bytes, four at a time. The kernels ({@link VectorDots#q8_0x8},
 * {@link WideDots#q8_0x8}) sign-extend a part (or half of one) to 16-bit lanes, multiply it by the
 * four activations broadcast ({@link Activations#xq8l}), add two parts' products and widen the pair
 * sums to 32 bits. As many bytes as the file. (The copy first split each value into two nibbles
 * laid out as two Q4_0 groups, so that the Q4_0x8 kernel ran twice over with no byte widened: twice
 * the multiplies and about half again as many operations; docs/KERNELS.md.)
 *
 * <p><b>Q5_0, widened to Q8_0x8.</b> A Q5_0 block (F16 scale, 32 five-bit values {@code q}, the value
 * {@code (q - 16)·d}) is the Q8_0 block with the same scale and the bytes {@code q - 16}
 * (−16..15): the Q5_0 matrix is copied as that Q8_0 matrix would be ({@link #copyType}), 272 bytes
 * per block of eight rows where the file has 176, and its products run the Q8_0x8 kernels, which a
 * model with a Q8_0 matrix (the token embedding of llama-quantize's mixes for rows not a multiple of
 * 256, where Q4_K falls back to Q5_0) compiles anyway. The same integer sums and scales, so the same
 * results as the in-place Q5_0 kernels up to float summation order; a row read back
 * ({@link #dequantizeRow}) is {@code Dequant.row}'s bit for bit. Q5_0 read in place streams at
 * about a third of the read rate (docs/KERNELS.md): half again as many bytes read at the Q8_0
 * copy's rate is the faster trade. The runtime widens a model's Q5_0 matrices only where they are at
 * most half of its matrix bytes (a K-quant mix's fallback, not a Q5_0 file: {@code CopyCache}).
 *
 * <p>The layouts that lost (docs/KERNELS.md): the scales as F32 (160 bytes per block: the copy 11 %
 * larger than the file, decode 3–4 % slower, 76 MB more resident on a 1B model), and the F16 scales
 * of a group's blocks gathered after its nibbles so that every part is 32-byte aligned (the same
 * speed from cache, 2.3 times slower from memory: two streams per group).
 *
 * <p><b>Q4_K.</b> Rows stay rows; blocks grow from 144 to {@value #Q4_K_COPY_BLOCK} bytes: d and
 * dmin as in the file, the eight 6-bit scales and the eight 6-bit mins unpacked to a byte each
 * (the file packs them in 12 bytes), then the 128 bytes of nibbles reordered so that int lane j of
 * each of the four 32-byte parts holds sub-block j ({@code reorderQ4_K}). {@link VectorDots#q4_Kx}
 * then keeps each sub-block's sum in its own lane, scales all eight with one multiply, and loads the
 * scales and mins as two 8-byte vectors instead of unpacking them on every block (the copy 2.8 %
 * larger than the file's matrix, the kernel about a fifth faster: docs/KERNELS.md).
 *
 * <p><b>Q5_K.</b> As Q4_K (the same 20 bytes of d, dmin, scales and mins, the same reordered
 * nibbles), then 32 bytes of fifth bits, {@value #Q5_K_COPY_BLOCK} bytes per block instead of 176:
 * int lane j holds sub-block j's 32 fifth bits, placed so that one shift and the mask
 * {@code 0x00100010} put the two fifth bits of each of the kernel's ways of taking two nibbles at
 * bits 4 and 20, beside their nibbles ({@code reorderQ5_K}, {@link #q5HighBit},
 * {@link VectorDots#q5_Kx}).
 *
 * <p><b>Q2_K.</b> Blocks stay 84 bytes: the 64 bytes of 2-bit values reordered so that in half h
 * (bytes {@code 32h..32h+31}) int lane j holds the sixteen values of sub-block 8h + j, value 2w at
 * bits 2w and value 2w + 1 at bits 16 + 2w: a shift by 2w and the mask {@code 0x00030003} give the
 * pair that {@link Activations#x6} (the Q6_K copy's activations) multiplies ({@code reorderQ2_KBlock},
 * {@link VectorDots#q2_Kx}); then the file's 16 bytes of scales and mins and its d and dmin.
 *
 * <p><b>Q3_K.</b> {@value #Q3_K_COPY_BLOCK} bytes per block instead of 110: the low two bits as in
 * the Q2_K copy (bytes 0..63), then 32 bytes whose int lane j holds the third bits of sub-blocks j
 * and 8 + j (value 2w of half h at bit 8h + w, value 2w + 1 sixteen bits higher: one shift and the
 * mask {@code 0x00040004} put a way's pair at bits 2 and 18), the sixteen 6-bit scales unpacked
 * to signed bytes with their offset of 32 taken off (96..111), and d ({@code reorderQ3_KBlock},
 * {@link VectorDots#q3_Kx}).
 *
 * <p><b>Q6_K.</b> The same for Q6_K's sixteen sub-blocks of 16 values: blocks stay 210 bytes with
 * the scales and d in place, and in each half three 32-byte parts whose int lane j holds sub-block
 * 8h + j's sixteen 6-bit values, twelve of them whole at bit offsets a shift and a mask bring down
 * ({@code reorderQ6_K}, {@link #q6Value}, {@link VectorDots#q6_Kx}).
 *
 * <p><b>Long rows.</b> A copy whose rows hold more than {@value #CHUNK_FROM} values (FFN down) is
 * laid out in bands of {@value #BAND} rows, each band column chunk by column chunk ({@link #span}:
 * the fewest chunks of at most {@value #MAX_CHUNK} values), each chunk row by row (K-quants,
 * {@link #blockOffset}) or group by group (Q4_0, {@link #q4_0Offset}). The decode kernels run a band
 * chunk by chunk: a chunk's activations (8–9 KB) stay in the first-level cache over the band's 64
 * rows instead of a whole row's 16 KB or more sharing it with the streaming weights, and the copy
 * is still read in order (FFN down of a 1B model, 2048x8192: 17–50 % faster, docs/KERNELS.md).
 * Shorter rows (rows of 4864 and 6144 values measured no gain from chunks) are one chunk, and the
 * layout is then the unchunked one byte for byte.
 *
 * <p>The values are the file's, so every product is still the integer reference's
 * ({@link ScalarDots}) up to float summation order (the kernel converts the scales exactly for
 * every finite F16 value; an infinite or NaN scale reads as a finite one of magnitude 2^16 or
 * more).
 */
public final class Interleave {
    /** Rows per group. */
    public static final int GROUP = 8;
    /** Bytes per block of a group of Q4_0 rows: 16 of scales, 128 of nibbles. */
    static final int Q4_0_GROUP_BLOCK = 144;
    /** Bytes per block of a group of Q8_0 rows: 16 of scales, then eight parts of four values of each row. */
    static final int Q8_0_GROUP_BLOCK = 272;
    /** Bytes per block of the Q4_K copy: d, dmin, 8 scales, 8 mins, 128 of nibbles. */
    static final int Q4_K_COPY_BLOCK = 148;
    /** Bytes per block of the Q3_K copy: 64 of low bits, 32 of third bits, 16 scales, d. */
    static final int Q3_K_COPY_BLOCK = 114;
    /** Bytes per block of the Q5_K copy: the Q4_K copy's 148, then 32 of fifth bits. */
    static final int Q5_K_COPY_BLOCK = 180;

    /** Rows per band of a copy whose rows are cut into column chunks ({@link #span}). */
    static final int BAND = 64;
    /** Values per row up to which a copy keeps its rows whole. */
    static final int CHUNK_FROM = 6144;
    /** Most values in one column chunk of a copy whose rows are cut. */
    static final int MAX_CHUNK = 4096;

    private Interleave() {
    }

    /**
     * Blocks per column chunk of a copy's rows of {@code nb} blocks of {@code values} values (256
     * for the K-quants, 32 for Q4_0): all of them when a row holds at most {@link #CHUNK_FROM}
     * values (the copy is then row after row, or group after group), else the row cut into the
     * fewest chunks of at most {@link #MAX_CHUNK} values, of equal size but for a shorter last one.
     */
    static int span(int nb, int values) {
        if ((long) nb * values <= CHUNK_FROM) return nb;
        int max = MAX_CHUNK / values;
        int chunks = (nb + max - 1) / max;
        return (nb + chunks - 1) / chunks;
    }

    /**
     * Byte offset of block {@code b} of row {@code r} in a K-quant copy of {@code rows} rows of
     * {@code nb} blocks of {@code block} bytes: bands of {@link #BAND} rows (the last one shorter
     * when the rows are not a multiple of it), each band chunk by chunk ({@link #span}), each chunk
     * row by row. With one chunk per row this is {@code (r·nb + b)·block}: rows one after the other.
     */
    static long blockOffset(int rows, int nb, int block, int r, int b) {
        return offset(rows, nb, block, BAND, span(nb, 256), r, b);
    }

    /**
     * Byte offset of block {@code b} of group {@code g} (rows 8g..8g+7) in a Q4_0 copy of
     * {@code groups} groups of {@code nb} blocks: as {@link #blockOffset} with groups for rows (a
     * band is {@code BAND / GROUP} groups); with one chunk, {@code (g·nb + b)·144}.
     */
    static long q4_0Offset(int groups, int nb, int g, int b) {
        return groupOffset(Q4_0_GROUP_BLOCK, groups, nb, g, b);
    }

    /** As {@link #q4_0Offset}, for a copy of groups of {@code block} bytes per block (Q4_0 or Q8_0). */
    static long groupOffset(int block, int groups, int nb, int g, int b) {
        return offset(groups, nb, block, BAND / GROUP, span(nb, 32), g, b);
    }

    /** Whether a copy of {@code t} holds groups of {@link #GROUP} rows (Q4_0, Q8_0, Q5_0) rather than rows. */
    static boolean grouped(GgmlType t) {
        return t == GgmlType.Q4_0 || t == GgmlType.Q8_0 || t == GgmlType.Q5_0;
    }

    /**
     * The type whose copy layout and kernels a copy of a {@code t} matrix has: Q8_0 for Q5_0 (widened,
     * see the class comment), else {@code t} itself.
     */
    public static GgmlType copyType(GgmlType t) {
        return t == GgmlType.Q5_0 ? GgmlType.Q8_0 : t;
    }

    /** The type {@code w}'s vector products run as: {@link #copyType} of its type when it has a copy, else its type. */
    static GgmlType kernelType(Weights w) {
        return w.interleaved() != null ? copyType(w.type()) : w.type();
    }

    /** Offset of block b of unit u (a row, or a group) in bands of {@code band} units and column chunks of {@code span} blocks. */
    private static long offset(int units, int nb, int block, int band, int span, int u, int b) {
        int ub = u - u % band;
        int bandUnits = Math.min(band, units - ub);
        int cs = b - b % span;
        int cn = Math.min(span, nb - cs);
        return ((long) ub * nb + (long) cs * bandUnits + (long) (u - ub) * cn + (b - cs)) * block;
    }

    /** Whether {@code w}'s copy holds its rows in column chunks (so that it is cut only on bands). */
    static boolean chunked(Weights w) {
        return w.cols() > CHUNK_FROM;
    }

    /**
     * The part of {@code w}'s copy that is the copy of rows {@code [from, from + count)}, laid out
     * as {@link #interleave} lays out such a matrix, or null when the copy cannot be cut there: a
     * copy in column chunks needs {@code from} on a band ({@link #BAND} rows) and {@code count} whole
     * bands or reaching the last row; otherwise Q4_0 needs both ends on groups of eight rows, and a
     * K-quant copy can be cut anywhere.
     */
    public static MemorySegment copySlice(Weights w, int from, int count) {
        MemorySegment p = w.interleaved();
        if (p == null || count <= 0) return null;
        int unit = grouped(w.type()) ? GROUP : 1;
        if (chunked(w)) {
            if (from % BAND != 0 || count % BAND != 0 && from + count != w.rows()) return null;
        } else if (from % unit != 0 || count % unit != 0) {
            return null;
        }
        long perUnit = p.byteSize() / (w.rows() / unit);
        return p.asSlice(from / unit * perUnit, count / unit * perUnit);
    }

    /** Whether {@link #interleave} makes a copy of {@code w}: Q4_0, Q8_0 and Q5_0 with a whole number of groups of rows, and the K-quants Q2_K to Q6_K. */
    public static boolean supports(Weights w) {
        if (w.interleaved() != null || w.rows() <= 0) return false;
        return switch (w.type()) {
            case Q4_0, Q8_0, Q5_0 -> w.rows() % GROUP == 0;
            case Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Bytes {@link #interleave} allocates for {@code w} (0 when it does not support it). */
    public static long bytes(Weights w) {
        if (!supports(w)) return 0;
        if (grouped(w.type())) return (long) w.rows() / GROUP * (w.cols() / 32) * blockBytes(copyType(w.type()));
        return (long) w.rows() * (w.cols() / 256) * blockBytes(w.type());
    }

    /** Bytes per block of a copy of type {@code t}: a K-quant block, or a block of a Q4_0 group of eight rows. */
    static int blockBytes(GgmlType t) {
        return switch (t) {
            case Q4_0 -> Q4_0_GROUP_BLOCK;
            case Q8_0 -> Q8_0_GROUP_BLOCK;
            case Q2_K -> 84;
            case Q3_K -> Q3_K_COPY_BLOCK;
            case Q4_K -> Q4_K_COPY_BLOCK;
            case Q5_K -> Q5_K_COPY_BLOCK;
            case Q6_K -> 210;
            default -> throw new IllegalArgumentException(t + " has no copy");
        };
    }

    /**
     * {@code w} with an interleaved copy allocated in {@code arena} (its lifetime is the copy's; a shared
     * arena, since the products run on a thread pool), or
     * {@code w} itself when {@link #supports} says no. Reads every byte of {@code w.data()} once.
     */
    public static Weights interleave(Weights w, Arena arena) {
        if (!supports(w)) return w;
        if (w.type() == GgmlType.Q4_K) return reorderQ4_K(w, arena);
        if (w.type() == GgmlType.Q5_K) return reorderQ5_K(w, arena);
        if (w.type() == GgmlType.Q2_K) return copyBlocks(w, arena, 84, 84, Interleave::reorderQ2_KBlock);
        if (w.type() == GgmlType.Q3_K) return copyBlocks(w, arena, 110, Q3_K_COPY_BLOCK, Interleave::reorderQ3_KBlock);
        if (w.type() == GgmlType.Q6_K) return reorderQ6_K(w, arena);
        if (w.type() == GgmlType.Q8_0) return copyGroups(w, arena, 34, Q8_0_GROUP_BLOCK, Interleave::interleaveQ8_0Row);
        if (w.type() == GgmlType.Q5_0) return copyGroups(w, arena, 22, Q8_0_GROUP_BLOCK, Interleave::widenQ5_0Row);
        return copyGroups(w, arena, 18, Q4_0_GROUP_BLOCK, Interleave::interleaveQ4_0Row);
    }

    /** One row's block of a group ({@link #copyGroups}): file block at {@code in[i]}, row j of the group block at {@code out[o]}. */
    private interface GroupShuffle {
        void apply(byte[] in, int i, byte[] out, int o, int j);
    }

    /**
     * {@code w} (Q4_0, Q8_0 or Q5_0, blocks of {@code inBlock} bytes) in groups of {@link #GROUP} rows of
     * {@code outBlock} bytes per block, each row's block placed by {@code shuffle}, the groups in
     * bands and column chunks ({@link #groupOffset}). A group's eight rows are contiguous in the
     * file: one bulk read, the shuffle in heap arrays (compiled quickly and free of segment checks),
     * one bulk write per column chunk.
     */
    private static Weights copyGroups(Weights w, Arena arena, int inBlock, int outBlock, GroupShuffle shuffle) {
        int nb = w.cols() / 32;
        int rowBytes = Math.toIntExact(w.rowBytes());
        MemorySegment src = w.data();
        MemorySegment p = arena.allocate(bytes(w), 64);
        int groups = w.rows() / GROUP;
        byte[] in = new byte[Math.multiplyExact(GROUP, rowBytes)];
        byte[] out = new byte[Math.multiplyExact(nb, outBlock)];
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) g * GROUP * rowBytes, in, 0, in.length);
            for (int b = 0; b < nb; b++) {
                for (int j = 0; j < GROUP; j++) shuffle.apply(in, j * rowBytes + inBlock * b, out, b * outBlock, j);
            }
            // One run per column chunk (the whole group when its rows are one chunk).
            for (int cs = 0, span = span(nb, 32); cs < nb; cs += span) {
                int cn = Math.min(span, nb - cs);
                MemorySegment.copy(out, cs * outBlock, p, ValueLayout.JAVA_BYTE, groupOffset(outBlock, groups, nb, g, cs),
                        cn * outBlock);
            }
        }
        return new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), p);
    }

    /** Q4_0x8: row j's scale at {@code 2j}, its four ints of nibbles in int lane j of the four parts. */
    private static void interleaveQ4_0Row(byte[] in, int i, byte[] out, int o, int j) {
        SHORT.set(out, o + 2 * j, (short) SHORT.get(in, i));
        for (int k = 0; k < 4; k++) INT.set(out, o + 16 + 32 * k + 4 * j, (int) INT.get(in, i + 2 + 4 * k));
    }

    /** Q8_0x8: row j's scale at {@code 2j}, its values {@code 4m..4m+3} in int lane j of part m. */
    private static void interleaveQ8_0Row(byte[] in, int i, byte[] out, int o, int j) {
        SHORT.set(out, o + 2 * j, (short) SHORT.get(in, i));
        for (int m = 0; m < 8; m++) INT.set(out, o + 16 + 32 * m + 4 * j, (int) INT.get(in, i + 2 + 4 * m));
    }

    /**
     * Q5_0 as Q8_0x8: row j's scale at {@code 2j}, its values {@code q - 16} as bytes, {@code 4m..4m+3}
     * in int lane j of part m. Value e's low four bits are nibble e of the 16 bytes at {@code i + 6}
     * (low nibbles for e &lt; 16, high ones after), its fifth bit bit e of the int {@code qh} at
     * {@code i + 2}.
     */
    private static void widenQ5_0Row(byte[] in, int i, byte[] out, int o, int j) {
        SHORT.set(out, o + 2 * j, (short) SHORT.get(in, i));
        int qh = (int) INT.get(in, i + 2);
        for (int m = 0; m < 8; m++) {
            int v = 0;
            for (int e = 4 * m; e < 4 * m + 4; e++) {
                int lo = e < 16 ? in[i + 6 + e] & 0xF : (in[i + 6 + e - 16] & 0xFF) >>> 4;
                int q = lo | (qh >>> e & 1) << 4;
                v |= (q - 16 & 0xFF) << 8 * (e - 4 * m);
            }
            INT.set(out, o + 16 + 32 * m + 4 * j, v);
        }
    }

    /**
     * Row {@code row} of {@code w} as floats into {@code out[off..off + cols)}, bit for bit what
     * {@link Dequant#row} gives for the file's row: read from the copy when {@code w} has one, so
     * that looking a row up (a token embedding tied to a copied output matrix) touches none of the
     * file's pages, which the load released (the kernel maps whole page-cache folios on a fault:
     * a few hundred look-ups made 150 MB of a 1B model's embedding resident again), else from the
     * file.
     */
    public static void dequantizeRow(Weights w, int row, float[] out, int off) {
        java.util.Objects.checkIndex(row, w.rows());
        int cols = w.cols();
        java.util.Objects.checkFromIndexSize(off, cols, out.length);
        MemorySegment p = w.interleaved();
        if (p == null) {
            Dequant.row(w.type(), w.data(), row * w.rowBytes(), out, off, cols);
            return;
        }
        copyRow(copyType(w.type()), p, w.rows(), cols, row, out, off);
    }

    /** Row {@code row} of a copy {@code p} of {@code rows x cols} in the layout of {@code t}'s copy ({@link #copyType}), as {@link #dequantizeRow}. */
    static void copyRow(GgmlType t, MemorySegment p, int rows, int cols, int row, float[] out, int off) {
        switch (t) {
            case Q8_0 -> {
                int nb = cols / 32, j = row % GROUP;
                for (int b = 0; b < nb; b++) {
                    long at = groupOffset(Q8_0_GROUP_BLOCK, rows / GROUP, nb, row / GROUP, b);
                    float d = Float.float16ToFloat(p.get(LE16, at + 2 * j));
                    int o = off + 32 * b;
                    for (int m = 0; m < 8; m++) {
                        int v = p.get(LE32, at + 16 + 32 * m + 4 * j);
                        for (int e = 0; e < 4; e++) out[o + 4 * m + e] = (byte) (v >> 8 * e) * d;
                    }
                }
            }
            case Q4_0 -> {
                int nb = cols / 32, j = row % GROUP;
                for (int b = 0; b < nb; b++) {
                    long at = q4_0Offset(rows / GROUP, nb, row / GROUP, b);
                    float d = Float.float16ToFloat(p.get(LE16, at + 2 * j));
                    int o = off + 32 * b;
                    for (int k = 0; k < 4; k++) {
                        int v = p.get(LE32, at + 16 + 32 * k + 4 * j);
                        for (int e = 0; e < 4; e++) {
                            int q = v >>> 8 * e & 0xFF;
                            out[o + 4 * k + e] = ((q & 0xF) - 8) * d;
                            out[o + 16 + 4 * k + e] = ((q >>> 4) - 8) * d;
                        }
                    }
                }
            }
            case Q4_K, Q5_K -> {
                boolean five = t == GgmlType.Q5_K;
                int block = five ? Q5_K_COPY_BLOCK : Q4_K_COPY_BLOCK, nb = cols / 256;
                for (int b = 0; b < nb; b++) {
                    long at = blockOffset(rows, nb, block, row, b);
                    float d = Float.float16ToFloat(p.get(LE16, at));
                    float min = Float.float16ToFloat(p.get(LE16, at + 2));
                    for (int j = 0; j < 8; j++) {
                        float dj = d * p.get(ValueLayout.JAVA_BYTE, at + 4 + j);
                        float mj = min * p.get(ValueLayout.JAVA_BYTE, at + 12 + j);
                        int h = five ? p.get(LE32, at + 148 + 4 * j) : 0;
                        int o = off + 256 * b + 32 * j;
                        for (int k = 0; k < 4; k++) {
                            int v = p.get(LE32, at + 20 + 32 * k + 4 * j);
                            for (int e = 0; e < 4; e++) {
                                int m = 8 * k + e;
                                int lo = (v >>> 8 * e & 0xF) + (h >>> q5HighBit(m) & 1) * 16;
                                int hi = (v >>> 8 * e + 4 & 0xF) + (h >>> q5HighBit(m + 4) & 1) * 16;
                                out[o + m] = dj * lo - mj;
                                out[o + m + 4] = dj * hi - mj;
                            }
                        }
                    }
                }
            }
            case Q6_K -> {
                int nb = cols / 256;
                for (int b = 0; b < nb; b++) {
                    long at = blockOffset(rows, nb, 210, row, b);
                    float d = Float.float16ToFloat(p.get(LE16, at + 208));
                    for (int h = 0; h < 2; h++) {
                        for (int j = 0; j < 8; j++) {
                            int a = p.get(LE32, at + 96 * h + 4 * j);
                            int bw = p.get(LE32, at + 96 * h + 32 + 4 * j);
                            int c = p.get(LE32, at + 96 * h + 64 + 4 * j);
                            float sc = d * p.get(ValueLayout.JAVA_BYTE, at + 192 + 8 * h + j);
                            int o = off + 256 * b + 128 * h + 16 * j;
                            for (int m = 0; m < 16; m++) out[o + m] = sc * (q6Value(a, bw, c, m) - 32);
                        }
                    }
                }
            }
            case Q2_K -> {
                int nb = cols / 256;
                for (int b = 0; b < nb; b++) {
                    long at = blockOffset(rows, nb, 84, row, b);
                    float d = Float.float16ToFloat(p.get(LE16, at + 80));
                    float min = Float.float16ToFloat(p.get(LE16, at + 82));
                    for (int k = 0; k < 16; k++) {
                        int sc = p.get(ValueLayout.JAVA_BYTE, at + 64 + k) & 0xFF;
                        float dl = d * (sc & 0xF);
                        float ml = min * (sc >>> 4);
                        int v = p.get(LE32, at + 32 * (k / 8) + 4 * (k % 8));
                        int o = off + 256 * b + 16 * k;
                        for (int m = 0; m < 16; m++) out[o + m] = dl * (v >>> q2Bit(m) & 3) - ml;
                    }
                }
            }
            case Q3_K -> {
                int nb = cols / 256;
                for (int b = 0; b < nb; b++) {
                    long at = blockOffset(rows, nb, Q3_K_COPY_BLOCK, row, b);
                    float d = Float.float16ToFloat(p.get(LE16, at + 112));
                    for (int k = 0; k < 16; k++) {
                        float dl = d * p.get(ValueLayout.JAVA_BYTE, at + 96 + k);
                        int h = k / 8;
                        int v = p.get(LE32, at + 32 * h + 4 * (k % 8));
                        int hb = p.get(LE32, at + 64 + 4 * (k % 8));
                        int o = off + 256 * b + 16 * k;
                        for (int m = 0; m < 16; m++) {
                            int low = v >>> q2Bit(m) & 3;
                            int third = hb >>> (8 * h + m / 2 + (m & 1) * 16) & 1;
                            out[o + m] = dl * (low - (third == 0 ? 4 : 0));
                        }
                    }
                }
            }
            default -> throw new IllegalStateException(t + " has no copy");
        }
    }

    /** The bit of value m (0..15) of a sub-block in its Q2_K copy lane: 2w for value 2w, 16 + 2w for 2w + 1. */
    static int q2Bit(int m) {
        return (m & 1) * 16 + (m & ~1);
    }

    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Little-endian views of heap byte arrays, for the copies' shuffles. */
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    /** Bytes of the file a block-by-block copy reads into a heap array at a time (whole blocks). */
    private static final int CHUNK = 1 << 16;

    /** A block-local rearrangement of a block from {@code in} at {@code i} to {@code out} at {@code o}. */
    private interface BlockShuffle {
        void apply(byte[] in, int i, byte[] out, int o);
    }

    /**
     * {@code w}'s blocks of {@code inBytes}, each rearranged by {@code shuffle} into {@code outBytes},
     * in a new segment of {@code arena} ({@link #bytes} long): read and written in chunks of whole
     * blocks through heap arrays.
     */
    private static Weights copyBlocks(Weights w, Arena arena, int inBytes, int outBytes, BlockShuffle shuffle) {
        MemorySegment src = w.data();
        long size = w.byteSize();
        MemorySegment p = arena.allocate(bytes(w), 64);
        int rows = w.rows(), nb = w.cols() / 256, span = span(nb, 256);
        int blocks = CHUNK / inBytes;
        byte[] in = new byte[blocks * inBytes], out = new byte[blocks * outBytes];
        for (long first = 0, total = size / inBytes; first < total; first += blocks) {
            int n = (int) Math.min(blocks, total - first);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, first * inBytes, in, 0, n * inBytes);
            for (int b = 0; b < n; b++) shuffle.apply(in, b * inBytes, out, b * outBytes);
            if (span == nb) {
                // Whole rows: the copy is block after block, as the file.
                MemorySegment.copy(out, 0, p, ValueLayout.JAVA_BYTE, first * outBytes, n * outBytes);
                continue;
            }
            // Rows in column chunks: one run per (row, chunk) piece, placed by blockOffset.
            for (int i = 0; i < n; ) {
                int r = (int) ((first + i) / nb), b = (int) ((first + i) % nb);
                int run = Math.min(n - i, Math.min(nb, b - b % span + span) - b);
                MemorySegment.copy(out, i * outBytes, p, ValueLayout.JAVA_BYTE, blockOffset(rows, nb, outBytes, r, b), run * outBytes);
                i += run;
            }
        }
        return new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), p);
    }

    /**
     * The Q4_K copy: each block's d and dmin as in the file (bytes 0..3), its scales of sub-blocks
     * 0..7 one per byte (4..11), its mins likewise (12..19), then its 128 bytes of nibbles reordered
     * so that int lane j of each 32-byte part (at {@code 20 + 32k}) holds sub-block j: part k, lane
     * j, byte e has value {@code 8k + e} of sub-block j in its low nibble and value
     * {@code 8k + 4 + e} in its high nibble. (In the file, byte l of the 32 at {@code 16 + 32i} holds
     * value l of sub-blocks 2i and 2i + 1, and the scales and mins are packed 6 bits each in the 12
     * bytes at 4.)
     */
    private static Weights reorderQ4_K(Weights w, Arena arena) {
        return copyBlocks(w, arena, 144, Q4_K_COPY_BLOCK, Interleave::reorderQ4_KBlock);
    }

    private static void reorderQ4_KBlock(byte[] in, int at, byte[] out, int o) {
        reorderKBlock(in, at, at + 16, out, o);
    }

    /**
     * The first {@value #Q4_K_COPY_BLOCK} bytes of a Q4_K or Q5_K copy block: d, dmin, the scales
     * and mins unpacked, and the nibbles (at {@code qs} in the file) reordered.
     */
    private static void reorderKBlock(byte[] in, int at, int qs, byte[] out, int o) {
        INT.set(out, o, (int) INT.get(in, at));
        int u0 = (int) INT.get(in, at + 4), u1 = (int) INT.get(in, at + 8), u2 = (int) INT.get(in, at + 12);
        INT.set(out, o + 4, KScales.scalesLow(u0));
        INT.set(out, o + 8, KScales.scalesHigh(u0, u2));
        INT.set(out, o + 12, KScales.minsLow(u1));
        INT.set(out, o + 16, KScales.minsHigh(u1, u2));
        for (int j = 0; j < 8; j++) {
            int shift = 4 * (j % 2);
            for (int k = 0; k < 4; k++) {
                // Values 8k..8k+7 of sub-block j: eight consecutive bytes of the file, one nibble
                // each; the first four become the low nibbles of the lane's four bytes.
                long n = (long) LONG.get(in, qs + 32 * (j / 2) + 8 * k) >>> shift & 0x0F0F0F0F0F0F0F0FL;
                INT.set(out, o + 20 + 32 * k + 4 * j, (int) n | (int) (n >>> 32) << 4);
            }
        }
    }

    /**
     * The Q5_K copy: bytes 0..147 as the Q4_K copy makes them from the file's d, dmin, scales and
     * nibbles (at 48 in a Q5_K block), then at {@code 148 + 4j} the fifth bits of sub-block j
     * (bit j of the file's {@code qh[m]} for value m), value m at bit {@link #q5HighBit}{@code (m)}.
     */
    private static Weights reorderQ5_K(Weights w, Arena arena) {
        return copyBlocks(w, arena, 176, Q5_K_COPY_BLOCK, Interleave::reorderQ5_KBlock);
    }

    private static void reorderQ5_KBlock(byte[] in, int at, byte[] out, int o) {
        reorderKBlock(in, at, at + 48, out, o);
        for (int j = 0; j < 8; j++) {
            int h = 0;
            for (int k = 0; k < 4; k++) {
                // Bit j of qh[8k..8k+7], values 8k..8k+7, gathered into one byte (bit r: value 8k + r)
                // by a multiply that moves each byte's bit into the top byte without carries.
                long bits = (long) LONG.get(in, at + 16 + 8 * k) >>> j & 0x0101010101010101L;
                int r = (int) (bits * 0x0102040810204080L >>> 56);
                // Values r = 0, 1, 4, 5 are the first of their way's pair, at bits 4k + (0, 1, 2, 3);
                // r = 2, 3, 6, 7 the second, sixteen bits higher.
                int first = (r & 3) | (r >>> 2 & 0xC), second = (r >>> 2 & 3) | (r >>> 4 & 0xC);
                h |= first << 4 * k | second << 16 + 4 * k;
            }
            INT.set(out, o + 148 + 4 * j, h);
        }
    }

    /**
     * The Q2_K copy of a block (see the class comment). In the file, sub-block k = 8h + 2s + t has
     * its value m in bits 2s..2s+1 of {@code qs[32h + 16t + m]} (qs at 16), its scale and min in
     * byte k, d and dmin at 80.
     */
    private static void reorderQ2_KBlock(byte[] in, int at, byte[] out, int o) {
        for (int k = 0; k < 16; k++) {
            int h = k / 8, s = k % 8 / 2, t = k % 2;
            int q = at + 16 + 32 * h + 16 * t;
            // Values 0..7 and 8..15 as the bytes of two longs, then each long's even and odd bytes
            // gathered into 2-bit fields (value 2w to bits 2w, value 2w + 1 to bits 16 + 2w).
            long lo = (long) LONG.get(in, q) >>> 2 * s & 0x0303030303030303L;
            long hi = (long) LONG.get(in, q + 8) >>> 2 * s & 0x0303030303030303L;
            INT.set(out, o + 32 * h + 4 * (k % 8), gather2(lo) | gather2(hi) << 8 | gather2(lo >>> 8) << 16 | gather2(hi >>> 8) << 24);
        }
        System.arraycopy(in, at, out, o + 64, 16);
        INT.set(out, o + 80, (int) INT.get(in, at + 80));
    }

    /**
     * The Q3_K copy of a block (see the class comment). In the file, sub-block k = 8h + 2s + t has
     * its value m's low bits in bits 2s..2s+1 of {@code qs[32h + 16t + m]} (qs at 32) and its third
     * bit in bit 4h + s of {@code hmask[16t + m]} (hmask at 0); the 6-bit scale i has its low four bits
     * in a nibble of bytes 96..103 and its top two in byte {@code 104 + i % 4}; d at 108.
     */
    private static void reorderQ3_KBlock(byte[] in, int at, byte[] out, int o) {
        for (int j = 0; j < 8; j++) {
            int high = 0;
            for (int h = 0; h < 2; h++) {
                // Sub-block k = 8h + j.
                int s = j / 2, t = j % 2;
                int q = at + 32 + 32 * h + 16 * t;
                long lo = (long) LONG.get(in, q) >>> 2 * s & 0x0303030303030303L;
                long hi = (long) LONG.get(in, q + 8) >>> 2 * s & 0x0303030303030303L;
                INT.set(out, o + 32 * h + 4 * j, gather2(lo) | gather2(hi) << 8 | gather2(lo >>> 8) << 16 | gather2(hi >>> 8) << 24);
                long b0 = (long) LONG.get(in, at + 16 * t) >>> 4 * h + s & 0x0101010101010101L;
                long b1 = (long) LONG.get(in, at + 16 * t + 8) >>> 4 * h + s & 0x0101010101010101L;
                int even = gather1(b0) | gather1(b1) << 4, odd = gather1(b0 >>> 8) | gather1(b1 >>> 8) << 4;
                high |= even << 8 * h | odd << 16 + 8 * h;
            }
            INT.set(out, o + 64 + 4 * j, high);
        }
        for (int i = 0; i < 16; i++) {
            int low = i < 8 ? in[at + 96 + i] & 0xF : (in[at + 96 + i - 8] & 0xFF) >>> 4;
            int top = (in[at + 104 + (i & 3)] & 0xFF) >>> 2 * (i >>> 2) & 3;
            out[o + 96 + i] = (byte) ((low | top << 4) - 32);
        }
        out[o + 112] = in[at + 108];
        out[o + 113] = in[at + 109];
    }

    /** The bits in bytes 0, 2, 4 and 6 of {@code v} (other bits of those bytes clear, odd bytes ignored) as four bits. */
    private static int gather1(long v) {
        long e = v & 0x0001000100010001L;
        e = (e | e >>> 15) & 0x0000000300000003L;
        return (int) ((e | e >>> 30) & 0xF);
    }

    /** The 2-bit values in bytes 0, 2, 4 and 6 of {@code v} (other bits of those bytes clear, odd bytes ignored) as one byte. */
    private static int gather2(long v) {
        long e = v & 0x0003000300030003L;
        e = (e | e >>> 14) & 0x0000000F0000000FL;
        return (int) ((e | e >>> 28) & 0xFF);
    }

    /**
     * The bit of a Q5_K copy lane's fifth-bit int that holds value m (0..31) of its sub-block:
     * {@code 4k + u}, plus 16 for the second value of the pair, where k = m / 8 is the value's part
     * and u (0..3) the kernel's way of taking it from its lane (values 8k + 0, 1, 4, 5 first,
     * 8k + 2, 3, 6, 7 second). Way u of part k therefore finds its pair's fifth bits at 4k + u and
     * 4k + u + 16.
     */
    static int q5HighBit(int m) {
        int k = m / 8, r = m % 8;
        int u = (r & 1) | (r >>> 1 & 2);
        return 4 * k + u + ((r & 2) != 0 ? 16 : 0);
    }

    /**
     * The Q6_K copy: blocks stay 210 bytes with the scales and d where the file has them (192..209);
     * bytes 0..191 are two halves of 96, and in half h the three 32-byte parts A, B, C (at
     * {@code 96h}, {@code 96h + 32}, {@code 96h + 64}) hold in int lane j the sixteen 6-bit values
     * of sub-block 8h + j. Value m (0..15) sits in the lower 16 bits for even m and the upper for
     * odd m, in the pair m / 2 = w: w = 0, 1 in A at bits 0..5 and 6..11, w = 2, 3 in B, w = 4, 5 in
     * C likewise (one mask, or a shift and a mask, per pair); w = 6 has its low four bits at bits
     * 12..15 of A and its top two at 12..13 of B, w = 7 its low four at 12..15 of C and its top two
     * at 14..15 of B. {@link #q6Value} reads value m back. (In the file, value e of half h has its
     * nibble in {@code ql[64h + e % 64]}, the low one for e &lt; 64, and its bit pair at bits
     * {@code 2·(e / 32)} of {@code qh[32h + e % 32]}.)
     */
    private static Weights reorderQ6_K(Weights w, Arena arena) {
        return copyBlocks(w, arena, 210, 210, Interleave::reorderQ6_KBlock);
    }

    private static void reorderQ6_KBlock(byte[] in, int at, byte[] out, int o) {
        System.arraycopy(in, at + 192, out, o + 192, 18);
        // Sub-block 8h + j: values e = 16j + m of half h, sixteen consecutive bytes of ql (low nibbles
        // for j < 4, high ones after) and of qh (bit pair 2·(j / 2)). Written out per j so that every
        // shift is a constant in the compiled code.
        for (int h = 0; h < 2; h++) {
            int ql = at + 64 * h, qh = at + 128 + 32 * h, oh = o + 96 * h;
            q6Sub(in, ql, qh, 0, 0, out, oh);
            q6Sub(in, ql + 16, qh + 16, 0, 0, out, oh + 4);
            q6Sub(in, ql + 32, qh, 0, 2, out, oh + 8);
            q6Sub(in, ql + 48, qh + 16, 0, 2, out, oh + 12);
            q6Sub(in, ql, qh, 4, 4, out, oh + 16);
            q6Sub(in, ql + 16, qh + 16, 4, 4, out, oh + 20);
            q6Sub(in, ql + 32, qh, 4, 6, out, oh + 24);
            q6Sub(in, ql + 48, qh + 16, 4, 6, out, oh + 28);
        }
    }

    /**
     * One Q6_K sub-block's sixteen values (nibbles from {@code in[ql..ql+16)} shifted down by
     * {@code nShift}, bit pairs from {@code in[qh..qh+16)} by {@code hShift}) as the ints A, B and C of
     * {@link #reorderQ6_K} at {@code out[o]}, {@code out[o + 32]} and {@code out[o + 64]}.
     */
    private static void q6Sub(byte[] in, int ql, int qh, int nShift, int hShift, byte[] out, int o) {
        // The 6-bit values m = 0..7 as the bytes of v0, 8..15 as those of v1.
        long v0 = ((long) LONG.get(in, ql) >>> nShift & 0x0F0F0F0F0F0F0F0FL)
                | ((long) LONG.get(in, qh) >>> hShift & 0x0303030303030303L) << 4;
        long v1 = ((long) LONG.get(in, ql + 8) >>> nShift & 0x0F0F0F0F0F0F0F0FL)
                | ((long) LONG.get(in, qh + 8) >>> hShift & 0x0303030303030303L) << 4;
        // The pairs as A, B and C want them (value 2w at bit 6·(w % 2), value 2w + 1 sixteen
        // bits higher): from four bytes q0..q3, even = q0 | q2 << 16, odd = q1 | q3 << 16.
        int w0 = (int) v0, w1 = (int) (v0 >>> 32), w2 = (int) v1, top = (int) (v1 >>> 32);
        int e0 = w0 & 0x00FF00FF, d0 = w0 >>> 8 & 0x00FF00FF;
        int e1 = w1 & 0x00FF00FF, d1 = w1 >>> 8 & 0x00FF00FF;
        int e2 = w2 & 0x00FF00FF, d2 = w2 >>> 8 & 0x00FF00FF;
        // top holds values 12..15 as bytes: their low nibbles go to A (12, 13) and C (14, 15),
        // their top bit pairs to B.
        int a = (e0 & 0x3F) | (e0 >>> 10 & 0xFC0) | (d0 & 0x3F) << 16 | (d0 & 0x3F0000) << 6
                | (top & 0xF) << 12 | (top >>> 8 & 0xF) << 28;
        int b = (e1 & 0x3F) | (e1 >>> 10 & 0xFC0) | (d1 & 0x3F) << 16 | (d1 & 0x3F0000) << 6
                | (top >>> 4 & 3) << 12 | (top >>> 20 & 3) << 14 | (top >>> 12 & 3) << 28 | (top >>> 28 & 3) << 30;
        int c = (e2 & 0x3F) | (e2 >>> 10 & 0xFC0) | (d2 & 0x3F) << 16 | (d2 & 0x3F0000) << 6
                | (top >>> 16 & 0xF) << 12 | (top >>> 24 & 0xF) << 28;
        INT.set(out, o, a);
        INT.set(out, o + 32, b);
        INT.set(out, o + 64, c);
    }

    /**
     * Per value m of a Q6_K sub-block in the copy ({@code reorderQ6_K}): which of its lane's three
     * ints holds the value's low bits (0 for A, 1 for B, 2 for C), their shift and mask, and the shift
     * and mask of its top two bits in B (mask 0 when the low bits are the whole value).
     */
    static final int[] Q6_WORD = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 2, 2};
    static final int[] Q6_SHIFT = {0, 16, 6, 22, 0, 16, 6, 22, 0, 16, 6, 22, 12, 28, 12, 28};
    static final int[] Q6_MASK = {0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0xF, 0xF, 0xF, 0xF};
    static final int[] Q6_TOP_SHIFT = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 28, 14, 30};
    static final int[] Q6_TOP_MASK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3};

    /** Value m (0..63) of a Q6_K sub-block from its lane's three ints in the copy. */
    static int q6Value(int a, int b, int c, int m) {
        int word = Q6_WORD[m] == 0 ? a : Q6_WORD[m] == 1 ? b : c;
        return (word >>> Q6_SHIFT[m] & Q6_MASK[m]) | (b >>> Q6_TOP_SHIFT[m] & Q6_TOP_MASK[m]) << 4;
    }
}

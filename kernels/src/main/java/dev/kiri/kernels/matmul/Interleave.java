package dev.kiri.kernels.matmul;

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
 * ({@link Weights#interleaved()}), made once when a model is loaded: Q4_0 rows interleaved in
 * groups of eight, Q4_K and Q6_K blocks with their bits reordered.
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
 * <p><b>Q6_K.</b> The same for Q6_K's sixteen sub-blocks of 16 values: blocks stay 210 bytes with
 * the scales and d in place, and in each half int lane j of the parts of low nibbles and of high
 * bit pairs holds sub-block 8h + j ({@code reorderQ6_K}, {@link VectorDots#q6_Kx}).
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
    /** Bytes per block of the Q4_K copy: d, dmin, 8 scales, 8 mins, 128 of nibbles. */
    static final int Q4_K_COPY_BLOCK = 148;

    private Interleave() {
    }

    /** Whether {@link #interleave} makes a copy of {@code w}: Q4_0 with a whole number of groups of rows, Q4_K and Q6_K. */
    public static boolean supports(Weights w) {
        if (w.interleaved() != null || w.rows() <= 0) return false;
        return w.type() == GgmlType.Q4_0 && w.rows() % GROUP == 0 || w.type() == GgmlType.Q4_K || w.type() == GgmlType.Q6_K;
    }

    /** Bytes {@link #interleave} allocates for {@code w} (0 when it does not support it). */
    public static long bytes(Weights w) {
        if (!supports(w)) return 0;
        return switch (w.type()) {
            case Q4_0 -> (long) w.rows() / GROUP * (w.cols() / 32) * Q4_0_GROUP_BLOCK;
            case Q4_K -> (long) w.rows() * (w.cols() / 256) * Q4_K_COPY_BLOCK;
            default -> w.byteSize();
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
        if (w.type() == GgmlType.Q6_K) return reorderQ6_K(w, arena);
        int nb = w.cols() / 32;
        int rowBytes = Math.toIntExact(w.rowBytes());
        MemorySegment src = w.data();
        MemorySegment p = arena.allocate(bytes(w), 64);
        int groups = w.rows() / GROUP;
        // A group's eight rows are contiguous in the file: one bulk read, the shuffle in heap arrays
        // (compiled quickly and free of segment checks), one bulk write.
        byte[] in = new byte[Math.multiplyExact(GROUP, rowBytes)];
        byte[] out = new byte[Math.multiplyExact(nb, Q4_0_GROUP_BLOCK)];
        for (int g = 0; g < groups; g++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, (long) g * GROUP * rowBytes, in, 0, in.length);
            for (int b = 0; b < nb; b++) {
                int o = b * Q4_0_GROUP_BLOCK;
                for (int j = 0; j < GROUP; j++) {
                    int i = j * rowBytes + 18 * b;
                    SHORT.set(out, o + 2 * j, (short) SHORT.get(in, i));
                    for (int k = 0; k < 4; k++) INT.set(out, o + 16 + 32 * k + 4 * j, (int) INT.get(in, i + 2 + 4 * k));
                }
            }
            MemorySegment.copy(out, 0, p, ValueLayout.JAVA_BYTE, (long) g * out.length, out.length);
        }
        return new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), p);
    }

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
        int blocks = CHUNK / inBytes;
        byte[] in = new byte[blocks * inBytes], out = new byte[blocks * outBytes];
        for (long first = 0, total = size / inBytes; first < total; first += blocks) {
            int n = (int) Math.min(blocks, total - first);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, first * inBytes, in, 0, n * inBytes);
            for (int b = 0; b < n; b++) shuffle.apply(in, b * inBytes, out, b * outBytes);
            MemorySegment.copy(out, 0, p, ValueLayout.JAVA_BYTE, first * outBytes, n * outBytes);
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
        INT.set(out, o, (int) INT.get(in, at));
        // llama.cpp's get_scale_min_k4, four sub-blocks per int: scales 0..3 and mins 0..3 are the
        // low 6 bits of bytes 0..3 and 4..7; scales 4..7 take their low 4 bits from bytes 8..11 and
        // their top 2 from the top of bytes 0..3, mins 4..7 the high nibbles of 8..11 and bytes 4..7's top.
        int u0 = (int) INT.get(in, at + 4), u1 = (int) INT.get(in, at + 8), u2 = (int) INT.get(in, at + 12);
        INT.set(out, o + 4, u0 & 0x3f3f3f3f);
        INT.set(out, o + 8, (u2 & 0x0f0f0f0f) | ((u0 >>> 2) & 0x30303030));
        INT.set(out, o + 12, u1 & 0x3f3f3f3f);
        INT.set(out, o + 16, ((u2 >>> 4) & 0x0f0f0f0f) | ((u1 >>> 2) & 0x30303030));
        for (int j = 0; j < 8; j++) {
            int shift = 4 * (j % 2);
            for (int k = 0; k < 4; k++) {
                // Values 8k..8k+7 of sub-block j: eight consecutive bytes of the file, one nibble
                // each; the first four become the low nibbles of the lane's four bytes.
                long n = (long) LONG.get(in, at + 16 + 32 * (j / 2) + 8 * k) >>> shift & 0x0F0F0F0F0F0F0F0FL;
                INT.set(out, o + 20 + 32 * k + 4 * j, (int) n | (int) (n >>> 32) << 4);
            }
        }
    }

    /**
     * The Q6_K copy: blocks stay 210 bytes with the scales and d where the file has them; in half h
     * (sub-blocks 8h..8h+7 of 16 values), int lane j of the two 32-byte parts of low nibbles at
     * {@code 64h} and of the 32 bytes of high bit pairs at {@code 128 + 32h} holds sub-block 8h + j.
     * Way w = 4k + u (k the part, u the way of taking two nibbles from a lane: bytes 0 and 2 low,
     * 1 and 3 low, 0 and 2 high, 1 and 3 high) holds values 2w and 2w + 1 of the sub-block; their
     * high bit pairs sit at bits 2w and 16 + 2w of the lane.
     */
    private static Weights reorderQ6_K(Weights w, Arena arena) {
        return copyBlocks(w, arena, 210, 210, Interleave::reorderQ6_KBlock);
    }

    private static void reorderQ6_KBlock(byte[] in, int at, byte[] out, int o) {
        System.arraycopy(in, at + 192, out, o + 192, 18);
        for (int h = 0; h < 2; h++) {
            for (int j = 0; j < 8; j++) {
                // Sub-block 8h + j: values e = 16j + m of half h. In the file, value e has its
                // nibble in ql[64h + e % 64] (the low one for e < 64) and its bit pair at bits
                // 2·(e / 32) of qh[32h + e % 32]: sixteen consecutive bytes of each, one shift.
                int ql = at + 64 * h + (16 * j & 63), qh = at + 128 + 32 * h + (16 * j & 31);
                int nShift = j < 4 ? 0 : 4, hShift = 2 * (j / 2);
                INT.set(out, o + 64 * h + 4 * j, q6Nibbles((long) LONG.get(in, ql) >>> nShift & 0x0F0F0F0F0F0F0F0FL));
                INT.set(out, o + 64 * h + 32 + 4 * j, q6Nibbles((long) LONG.get(in, ql + 8) >>> nShift & 0x0F0F0F0F0F0F0F0FL));
                long h0 = (long) LONG.get(in, qh) >>> hShift, h1 = (long) LONG.get(in, qh + 8) >>> hShift;
                INT.set(out, o + 128 + 32 * h + 4 * j, q6HighBits(h0) | q6HighBits(h1) << 8);
            }
        }
    }

    /**
     * The bit pairs in the low bits of eight bytes (values m = 0..7 of a way's part, the rest of each
     * byte ignored) as {@link #Q6_HIGH_SHIFT} places them: even m at bit {@code m}, odd m at bit
     * {@code 16 + m - 1}. The even and odd bytes' pairs are gathered apart, two stages each.
     */
    static int q6HighBits(long h) {
        long e = h & 0x0003000300030003L, d = h >>> 8 & 0x0003000300030003L;
        e = (e | e >>> 14) & 0x0000000F0000000FL;
        d = (d | d >>> 14) & 0x0000000F0000000FL;
        return (int) ((e | e >>> 28) & 0xFF) | (int) ((d | d >>> 28) & 0xFF) << 16;
    }

    /**
     * Eight nibbles (one per byte, values m = 0..7 of a way's part) as the lane's int: bytes 0..3 take
     * m = 0, 2, 1, 3 in their low nibbles and m = 4, 6, 5, 7 in their high ones ({@link #Q6_NIBBLE_SHIFT}).
     */
    private static int q6Nibbles(long n) {
        int x = (int) n | (int) (n >>> 32) << 4;
        return x & 0xFF0000FF | x >>> 8 & 0x0000FF00 | x << 8 & 0x00FF0000;
    }

    /**
     * For value m of a 16-value Q6_K sub-block in the copy: the shift of its nibble in its lane's int
     * of low nibbles (the first part's for m &lt; 8, the second's for the rest), and of its bit pair
     * in the lane's int of high bits. Way w = m / 2 takes bytes 0 and 2 (u = w % 4 even) or 1 and 3,
     * low nibbles for u &lt; 2, high ones otherwise; the even value in the lower 16 bits.
     */
    static final int[] Q6_NIBBLE_SHIFT = new int[16], Q6_HIGH_SHIFT = new int[16];

    static {
        for (int m = 0; m < 16; m++) {
            int wy = m / 2, odd = m % 2, u = wy % 4;
            Q6_NIBBLE_SHIFT[m] = 8 * (u % 2 + 2 * odd) + (u < 2 ? 0 : 4);
            Q6_HIGH_SHIFT[m] = 2 * wy + 16 * odd;
        }
    }
}

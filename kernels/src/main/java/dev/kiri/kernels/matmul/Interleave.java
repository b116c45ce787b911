package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A second copy of a weight matrix in a layout of the vector decode kernels' own
 * ({@link Weights#interleaved()}), made once when a model is loaded: Q4_0 rows interleaved in
 * groups of eight, Q4_K blocks with their nibbles reordered.
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
 * <p><b>Q4_K.</b> Rows stay rows and blocks stay 144 bytes with their 16 bytes of scales as in the
 * file; the 128 bytes of nibbles are reordered so that int lane j of each of the four 32-byte parts
 * holds sub-block j ({@code reorderQ4_K}), which lets {@link VectorDots#q4_Kx} keep each
 * sub-block's sum in its own lane and scale all eight with one multiply.
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

    private Interleave() {
    }

    /** Whether {@link #interleave} makes a copy of {@code w}: Q4_0 with a whole number of groups of rows, and Q4_K. */
    public static boolean supports(Weights w) {
        if (w.interleaved() != null || w.rows() <= 0) return false;
        return w.type() == GgmlType.Q4_0 && w.rows() % GROUP == 0 || w.type() == GgmlType.Q4_K;
    }

    /** Bytes {@link #interleave} allocates for {@code w} (0 when it does not support it). */
    public static long bytes(Weights w) {
        if (!supports(w)) return 0;
        return w.type() == GgmlType.Q4_K ? w.byteSize() : (long) w.rows() / GROUP * (w.cols() / 32) * Q4_0_GROUP_BLOCK;
    }

    /**
     * {@code w} with an interleaved copy allocated in {@code arena} (its lifetime is the copy's; a shared
     * arena, since the products run on a thread pool), or
     * {@code w} itself when {@link #supports} says no. Reads every byte of {@code w.data()} once.
     */
    public static Weights interleave(Weights w, Arena arena) {
        if (!supports(w)) return w;
        if (w.type() == GgmlType.Q4_K) return reorderQ4_K(w, arena);
        int nb = w.cols() / 32;
        long rowBytes = w.rowBytes();
        MemorySegment src = w.data();
        MemorySegment p = arena.allocate(bytes(w), 64);
        int groups = w.rows() / GROUP;
        for (int g = 0; g < groups; g++) {
            long out = (long) g * nb * Q4_0_GROUP_BLOCK;
            for (int b = 0; b < nb; b++, out += Q4_0_GROUP_BLOCK) {
                for (int j = 0; j < GROUP; j++) {
                    long in = ((long) g * GROUP + j) * rowBytes + 18L * b;
                    p.set(Le.I16, out + 2 * j, src.get(Le.I16, in));
                    for (int k = 0; k < 4; k++) {
                        p.set(Le.I32, out + 16 + 32 * k + 4 * j, src.get(Le.I32, in + 2 + 4 * k));
                    }
                }
            }
        }
        return new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), p);
    }

    /**
     * The Q4_K copy: each block's 16 bytes of scales as in the file, then its 128 bytes of nibbles
     * reordered so that int lane j of each 32-byte part holds sub-block j: part k, lane j, byte e
     * has value {@code 8k + e} of sub-block j in its low nibble and value {@code 8k + 4 + e} in its
     * high nibble. (In the file, byte l of the 32 at {@code 32i} holds value l of sub-blocks 2i and
     * 2i + 1.)
     */
    private static Weights reorderQ4_K(Weights w, Arena arena) {
        MemorySegment src = w.data();
        MemorySegment p = arena.allocate(bytes(w), 64);
        long blocks = w.byteSize() / 144;
        byte[] in = new byte[144];
        byte[] out = new byte[144];
        for (long blk = 0; blk < blocks; blk++) {
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, 144 * blk, in, 0, 144);
            System.arraycopy(in, 0, out, 0, 16);
            for (int k = 0; k < 4; k++) {
                for (int j = 0; j < 8; j++) {
                    for (int e = 0; e < 4; e++) {
                        out[16 + 32 * k + 4 * j + e] = (byte) (q4K(in, j, 8 * k + e) | q4K(in, j, 8 * k + 4 + e) << 4);
                    }
                }
            }
            MemorySegment.copy(out, 0, p, ValueLayout.JAVA_BYTE, 144 * blk, 144);
        }
        return new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), p);
    }

    /** Value m of sub-block j of a Q4_K block in the file's layout. */
    private static int q4K(byte[] block, int j, int m) {
        int b = block[16 + 32 * (j / 2) + m] & 0xFF;
        return j % 2 == 0 ? b & 0xF : b >> 4;
    }
}

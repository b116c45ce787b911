package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A second copy of a weight matrix with its rows interleaved in groups of eight, for the vector
 * decode kernels ({@link Weights#interleaved()}); made once when a model is loaded.
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

    /** Whether {@link #interleave} makes a copy of {@code w}: Q4_0 with a whole number of groups of rows. */
    public static boolean supports(Weights w) {
        return w.type() == GgmlType.Q4_0 && w.rows() > 0 && w.rows() % GROUP == 0 && w.interleaved() == null;
    }

    /** Bytes {@link #interleave} allocates for {@code w} (0 when it does not support it). */
    public static long bytes(Weights w) {
        return supports(w) ? (long) w.rows() / GROUP * (w.cols() / 32) * Q4_0_GROUP_BLOCK : 0;
    }

    /**
     * {@code w} with an interleaved copy allocated in {@code arena} (its lifetime is the copy's; a shared
     * arena, since the products run on a thread pool), or
     * {@code w} itself when {@link #supports} says no. Reads every byte of {@code w.data()} once.
     */
    public static Weights interleave(Weights w, Arena arena) {
        if (!supports(w)) return w;
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
}

package dev.kiri.kernels.matmul;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian scalar reads from a weight segment (GGUF is little-endian). */
final class Le {
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Le() {
    }

    /** Signed byte. */
    static int i8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off);
    }

    /** Unsigned byte. */
    static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    static int u16(MemorySegment s, long off) {
        return s.get(I16, off) & 0xFFFF;
    }

    static int i32(MemorySegment s, long off) {
        return s.get(I32, off);
    }

    /** An IEEE half at {@code off}, widened. */
    static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    /** A bfloat16 at {@code off}, widened (exact: the upper half of a float). */
    static float bf16(MemorySegment s, long off) {
        return Float.intBitsToFloat((s.get(I16, off) & 0xFFFF) << 16);
    }

    static float f32(MemorySegment s, long off) {
        return s.get(F32, off);
    }
}

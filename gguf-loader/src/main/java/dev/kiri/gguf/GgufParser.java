package dev.kiri.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the header of one mapped GGUF file. Every count and length is checked against the bytes
 * that remain before anything is allocated, so a malformed file costs at most a few times its own
 * size in memory and time, and every problem is a {@link GgufFormatException} with the offset.
 */
final class GgufParser {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Deepest nesting of arrays we accept; real files use one level. */
    private static final int MAX_ARRAY_DEPTH = 8;
    private static final int MAX_DIMS = 4;

    private final Path path;
    private final MemorySegment seg;
    private final long size;
    private long pos;
    private String context = "header";

    private GgufParser(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static GgufFile.Shard parse(Path path, MemorySegment seg) throws GgufFormatException {
        return new GgufParser(path, seg).parse();
    }

    private GgufFile.Shard parse() throws GgufFormatException {
        if (size < 4) throw error("file is " + size + " bytes, too short for the GGUF magic");
        int magic = seg.get(I32, 0);
        if (magic != GgufFile.MAGIC) {
            throw error(String.format("bad magic 0x%08x at offset 0, expected \"GGUF\" (0x%08x)", magic, GgufFile.MAGIC));
        }
        pos = 4;
        context = "header version";
        int version = readInt();
        if (version == 1) throw error("GGUF version 1 is not supported (only versions 2 and 3)");
        if (version != 2 && version != 3) throw error("unknown GGUF version " + Integer.toUnsignedString(version) + " (supported: 2 and 3)");
        context = "header tensor count";
        long tensorCount = readLong();
        context = "header metadata count";
        long kvCount = readLong();
        // Each kv takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8 + 4 + 8 + 4 + 8.
        if (kvCount < 0 || kvCount > remaining() / 13) {
            throw error("metadata count " + Long.toUnsignedString(kvCount) + " at offset 16 is impossible for a file of " + size + " bytes");
        }
        if (tensorCount < 0 || tensorCount > remaining() / 32) {
            throw error("tensor count " + Long.toUnsignedString(tensorCount) + " at offset 8 is impossible for a file of " + size + " bytes");
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long at = pos;
            context = "metadata entry " + i;
            String key = readString();
            context = "metadata " + key;
            if (kv.containsKey(key)) throw errorAt(at, "duplicate metadata key " + key);
            int typeId = readInt();
            GgufValueType type = GgufValueType.byIdOrNull(typeId);
            if (type == null) throw errorAt(pos - 4, "metadata " + key + " has unknown value type " + typeId);
            kv.put(key, new GgufValue(type, readValue(type, 0)));
        }
        GgufMetadata metadata = new GgufMetadata(path.toString(), kv);

        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue alignValue = kv.get("general.alignment");
        if (alignValue != null) {
            if (alignValue.type() != GgufValueType.UINT32) {
                throw error("general.alignment is " + alignValue.type() + ", expected UINT32");
            }
            long a = (Long) alignValue.value();
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw error("general.alignment is " + a + ", expected a power of two");
            }
            alignment = (int) a;
        }

        record Info(String name, long[] shape, GgmlType type, long offset, long bytes, long at) {
        }
        List<Info> infos = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            context = "tensor info " + i;
            String name = readString();
            context = "tensor " + name;
            if (!names.add(name)) throw errorAt(at, "duplicate tensor name " + name);
            int nDims = readInt();
            if (nDims < 1 || nDims > MAX_DIMS) throw errorAt(pos - 4, "tensor " + name + " has " + Integer.toUnsignedString(nDims) + " dimensions (1 to 4 allowed)");
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                shape[d] = readLong();
                if (shape[d] < 0) throw errorAt(pos - 8, "tensor " + name + " dimension " + d + " is negative (" + Long.toUnsignedString(shape[d]) + ")");
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw errorAt(pos - 8, "tensor " + name + " element count overflows (shape so far " + java.util.Arrays.toString(java.util.Arrays.copyOf(shape, d + 1)) + ")");
                }
            }
            int typeId = readInt();
            GgmlType type = GgmlType.byIdOrNull(typeId);
            if (type == null) throw errorAt(pos - 4, "tensor " + name + " has unknown ggml type id " + typeId);
            if (!type.isUsable()) throw errorAt(pos - 4, "tensor " + name + " has type " + type.ggmlName() + " (id " + typeId + "), which ggml has removed");
            long offset = readLong();
            if (shape[0] % type.blockSize() != 0) {
                throw errorAt(at, "tensor " + name + " row length " + shape[0] + " is not a multiple of the " + type.ggmlName() + " block size " + type.blockSize());
            }
            long bytes;
            try {
                bytes = type.byteSize(elements);
            } catch (ArithmeticException e) {
                throw errorAt(at, "tensor " + name + " byte size overflows");
            }
            if (offset < 0 || offset % alignment != 0) {
                throw errorAt(pos - 8, "tensor " + name + " data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            infos.add(new Info(name, shape, type, offset, bytes, at));
        }

        context = "data section";
        long dataOffset = align(pos, alignment);
        if (tensorCount > 0 && dataOffset > size) throw error("data section would start at offset " + dataOffset + ", past the end of the file (" + size + " bytes)");
        long dataSize = Math.max(0, size - dataOffset);

        List<Info> byOffset = new ArrayList<>(infos);
        byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long prevEnd = 0;
        String prevName = null;
        for (Info info : byOffset) {
            if (info.offset() > dataSize || info.bytes() > dataSize - info.offset()) {
                throw errorAt(info.at(), "tensor " + info.name() + " data [" + (dataOffset + info.offset()) + ", "
                        + (dataOffset + info.offset() + info.bytes()) + ") runs past the end of the file (" + size + " bytes)");
            }
            if (info.offset() < prevEnd) {
                throw errorAt(info.at(), "tensor " + info.name() + " data at data offset " + info.offset() + " overlaps tensor " + prevName);
            }
            prevEnd = info.offset() + info.bytes();
            prevName = info.name();
        }

        List<GgufTensor> tensors = new ArrayList<>(infos.size());
        for (Info info : infos) {
            long abs = dataOffset + info.offset();
            tensors.add(new GgufTensor(info.name(), info.type(), info.shape(), abs, seg.asSlice(abs, info.bytes())));
        }
        return new GgufFile.Shard(path, version, alignment, dataOffset, seg, metadata, List.copyOf(tensors));
    }

    private Object readValue(GgufValueType type, int depth) throws GgufFormatException {
        return switch (type) {
            case UINT8 -> (long) (readByte() & 0xFF);
            case INT8 -> (long) readByte();
            case UINT16 -> (long) (readShort() & 0xFFFF);
            case INT16 -> (long) readShort();
            case UINT32 -> readInt() & 0xFFFFFFFFL;
            case INT32 -> (long) readInt();
            case UINT64, INT64 -> readLong();
            case FLOAT32 -> Float.intBitsToFloat(readInt());
            case FLOAT64 -> Double.longBitsToDouble(readLong());
            case BOOL -> {
                byte b = readByte();
                if (b != 0 && b != 1) throw errorAt(pos - 1, context + ": bool value is " + b + ", expected 0 or 1");
                yield b == 1;
            }
            case STRING -> readString();
            case ARRAY -> readArray(depth + 1);
        };
    }

    private GgufArray readArray(int depth) throws GgufFormatException {
        long at = pos;
        if (depth > MAX_ARRAY_DEPTH) throw errorAt(at, context + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
        int typeId = readInt();
        GgufValueType et = GgufValueType.byIdOrNull(typeId);
        if (et == null) throw errorAt(pos - 4, context + ": array has unknown element type " + typeId);
        long n = readLong();
        if (n < 0 || n > remaining() / et.minBytes()) {
            throw errorAt(pos - 8, context + ": array of " + Long.toUnsignedString(n) + " " + et + " values does not fit in the "
                    + remaining() + " bytes left in the file");
        }
        int len = (int) n;
        if (n > Integer.MAX_VALUE - 16) throw errorAt(pos - 8, context + ": array of " + n + " values is too long");
        Object values = switch (et) {
            case UINT8, INT8 -> {
                byte[] a = new byte[len];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, len);
                pos += len;
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[len];
                MemorySegment.copy(seg, I16, pos, a, 0, len);
                pos += 2L * len;
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[len];
                MemorySegment.copy(seg, I32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[len];
                MemorySegment.copy(seg, I64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[len];
                MemorySegment.copy(seg, F32, pos, a, 0, len);
                pos += 4L * len;
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[len];
                MemorySegment.copy(seg, F64, pos, a, 0, len);
                pos += 8L * len;
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) a[i] = (Boolean) readValue(GgufValueType.BOOL, depth);
                yield a;
            }
            case STRING -> {
                String[] a = new String[len];
                for (int i = 0; i < len; i++) a[i] = readString();
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[len];
                for (int i = 0; i < len; i++) a[i] = readArray(depth + 1);
                yield a;
            }
        };
        return new GgufArray(et, values);
    }

    private String readString() throws GgufFormatException {
        long at = pos;
        long len = readLong();
        if (len < 0 || len > remaining()) {
            throw errorAt(at, context + ": string length " + Long.toUnsignedString(len) + " runs past the end of the file (" + remaining() + " bytes left)");
        }
        if (len > Integer.MAX_VALUE - 16) throw errorAt(at, context + ": string of " + len + " bytes is too long");
        if (len == 0) return "";
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        pos += len;
        // Malformed UTF-8 becomes U+FFFD rather than an error: llama.cpp treats strings as bytes,
        // and a vocabulary can hold a stray byte.
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private byte readByte() throws GgufFormatException {
        need(1);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short readShort() throws GgufFormatException {
        need(2);
        short v = seg.get(I16, pos);
        pos += 2;
        return v;
    }

    private int readInt() throws GgufFormatException {
        need(4);
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    private long readLong() throws GgufFormatException {
        need(8);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    private void need(long n) throws GgufFormatException {
        if (n > size - pos) {
            throw errorAt(pos, "file ends inside " + context + " (needed " + n + " bytes, " + (size - pos) + " left)");
        }
    }

    private long remaining() {
        return size - pos;
    }

    private static long align(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private GgufFormatException error(String message) {
        return new GgufFormatException(path + ": " + message);
    }

    private GgufFormatException errorAt(long offset, String message) {
        return new GgufFormatException(path + ": " + message + " (at byte offset " + offset + ")");
    }
}

package dev.kiri.gguf;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes GGUF version 3 files: metadata of every value type, tensors of any ggml type, aligned
 * data. Tensor bytes are streamed from their sources while the file is written, so a file of any
 * size needs only a small buffer of heap.
 *
 * <pre>{@code
 * var w = new GgufWriter();
 * w.putString("general.architecture", "llama");
 * w.putUInt32("llama.block_count", 16);
 * w.addTensor("token_embd.weight", GgmlType.Q8_0, new long[]{2048, 128256}, out -> ...);
 * w.write(path);
 * }</pre>
 *
 * Metadata and tensors are written in the order they were added. The alignment is 32 bytes unless
 * {@link #alignment(int)} sets another power of two (which also writes {@code general.alignment}).
 * Not thread-safe; build one writer per file.
 */
public final class GgufWriter {
    /** Produces the bytes of one tensor. It must write exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(OutputStream out) throws IOException;
    }

    private record Entry(String name, GgmlType type, long[] shape, long bytes, TensorData data) {
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;

    /** Sets the data alignment (a power of two) and records it as {@code general.alignment}. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
        }
        this.alignment = alignment;
        metadata.put("general.alignment", GgufValue.ofUInt32(alignment));
        return this;
    }

    /** Adds (or replaces) a metadata entry. */
    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (key.isEmpty()) throw new IllegalArgumentException("empty metadata key");
        if (key.equals("general.alignment")) {
            if (value.type() != GgufValueType.UINT32) throw new IllegalArgumentException("general.alignment must be UINT32");
            return alignment(Math.toIntExact((Long) value.value()));
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String value) {
        return put(key, GgufValue.ofString(value));
    }

    public GgufWriter putUInt32(String key, long value) {
        if (value < 0 || value > 0xFFFFFFFFL) throw new IllegalArgumentException(key + ": " + value + " is not a UINT32");
        return put(key, GgufValue.ofUInt32(value));
    }

    public GgufWriter putInt32(String key, int value) {
        return put(key, GgufValue.ofInt32(value));
    }

    public GgufWriter putUInt64(String key, long value) {
        return put(key, GgufValue.ofUInt64(value));
    }

    public GgufWriter putFloat32(String key, float value) {
        return put(key, GgufValue.ofFloat32(value));
    }

    public GgufWriter putBool(String key, boolean value) {
        return put(key, GgufValue.ofBool(value));
    }

    public GgufWriter putArray(String key, GgufArray value) {
        return put(key, GgufValue.ofArray(value));
    }

    /** Copies every metadata entry of {@code source} (in its order), {@code general.alignment} included. */
    public GgufWriter putAll(GgufMetadata source) {
        for (Map.Entry<String, GgufValue> e : source.asMap().entrySet()) put(e.getKey(), e.getValue());
        return this;
    }

    /**
     * Adds a tensor whose bytes come from {@code data} when the file is written.
     *
     * @param shape ne0 (the row length) first; 1 to 4 dimensions; ne0 a multiple of the block size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorData data) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor " + name + " added twice");
        if (!type.isUsable()) throw new IllegalArgumentException("tensor " + name + ": type " + type.ggmlName() + " is retired");
        if (shape.length < 1 || shape.length > 4) {
            throw new IllegalArgumentException("tensor " + name + " has " + shape.length + " dimensions (1 to 4 allowed)");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + Arrays.toString(shape));
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + " row length " + shape[0] + " is not a multiple of the "
                    + type.ggmlName() + " block size " + type.blockSize());
        }
        tensors.put(name, new Entry(name, type, shape.clone(), type.byteSize(elements), data));
        return this;
    }

    /** Adds a tensor from a byte array, which must hold exactly the tensor's bytes. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, byte[] bytes) {
        return addTensor(name, type, shape, out -> out.write(bytes));
    }

    /** Adds a tensor from a memory segment (e.g. another file's tensor), copied when the file is written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment bytes) {
        return addTensor(name, type, shape, out -> {
            byte[] chunk = new byte[(int) Math.min(1 << 20, bytes.byteSize())];
            for (long at = 0; at < bytes.byteSize(); at += chunk.length) {
                int n = (int) Math.min(chunk.length, bytes.byteSize() - at);
                MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, at, chunk, 0, n);
                out.write(chunk, 0, n);
            }
        });
    }

    /** Adds an F32 tensor from floats, quantized to {@code type} row by row when written. */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, float[] values) {
        long rowLen = shape[0];
        return addTensor(name, type, shape, out -> {
            long count = 1;
            for (long d : shape) count *= d;
            if (count != values.length) {
                throw new IllegalArgumentException("tensor " + name + " needs " + count + " values, got " + values.length);
            }
            byte[] row = new byte[Math.toIntExact(type.byteSize(rowLen))];
            for (long r = 0; rowLen > 0 && r < count / rowLen; r++) {
                Quantize.row(type, values, Math.toIntExact(r * rowLen), row, 0, (int) rowLen);
                out.write(row);
            }
        });
    }

    /**
     * Writes the file: to a temporary file beside {@code path}, renamed into place when complete,
     * so a reader never sees half a file.
     *
     * @throws IOException if a tensor source fails or writes the wrong number of bytes (the message names the tensor)
     */
    public void write(Path path) throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + path.getFileName(), ".part");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20)) {
                writeTo(out);
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes the whole file to a stream (not closed). */
    public void writeTo(OutputStream out) throws IOException {
        byte[] header = header();
        out.write(header);
        long pos = header.length;
        pos = pad(out, pos);
        for (Entry e : tensors.values()) {
            CountingStream counted = new CountingStream(out, e);
            e.data().writeTo(counted);
            if (counted.written != e.bytes()) {
                throw new IOException("tensor " + e.name() + ": its source wrote " + counted.written + " bytes, expected "
                        + e.bytes() + " (" + e.type().ggmlName() + " " + Arrays.toString(e.shape()) + ")");
            }
            pos = pad(out, pos + e.bytes());
        }
        out.flush();
    }

    /** The byte size of the file {@link #write} produces. */
    public long fileSize() {
        long pos = align(header().length);
        for (Entry e : tensors.values()) pos = align(pos + e.bytes());
        return pos;
    }

    private long pad(OutputStream out, long pos) throws IOException {
        long aligned = align(pos);
        for (long i = pos; i < aligned; i++) out.write(0);
        return aligned;
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** Header, metadata and tensor infos, with data offsets computed from the tensor sizes. */
    private byte[] header() {
        Buf b = new Buf();
        b.i32(GgufFile.MAGIC);
        b.i32(3);
        b.i64(tensors.size());
        b.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            b.str(e.getKey());
            b.i32(e.getValue().type().id());
            value(b, e.getValue().type(), e.getValue().value());
        }
        long offset = 0;
        for (Entry e : tensors.values()) {
            b.str(e.name());
            b.i32(e.shape().length);
            for (long d : e.shape()) b.i64(d);
            b.i32(e.type().id());
            b.i64(offset);
            offset = align(offset + e.bytes());
        }
        return b.bytes();
    }

    private static void value(Buf b, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8, BOOL -> b.u8(type == GgufValueType.BOOL ? ((Boolean) v ? 1 : 0) : (int) (long) (Long) v);
            case UINT16, INT16 -> b.i16((int) (long) (Long) v);
            case UINT32, INT32 -> b.i32((int) (long) (Long) v);
            case UINT64, INT64 -> b.i64((Long) v);
            case FLOAT32 -> b.i32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> b.i64(Double.doubleToRawLongBits((Double) v));
            case STRING -> b.str((String) v);
            case ARRAY -> array(b, (GgufArray) v);
        }
    }

    private static void array(Buf b, GgufArray a) {
        b.i32(a.elementType().id());
        b.i64(a.length());
        Object vs = a.values();
        switch (a.elementType()) {
            case UINT8, INT8 -> b.raw((byte[]) vs);
            case UINT16, INT16 -> { for (short s : (short[]) vs) b.i16(s); }
            case UINT32, INT32 -> { for (int i : (int[]) vs) b.i32(i); }
            case UINT64, INT64 -> { for (long l : (long[]) vs) b.i64(l); }
            case FLOAT32 -> { for (float f : (float[]) vs) b.i32(Float.floatToRawIntBits(f)); }
            case FLOAT64 -> { for (double d : (double[]) vs) b.i64(Double.doubleToRawLongBits(d)); }
            case BOOL -> { for (boolean z : (boolean[]) vs) b.u8(z ? 1 : 0); }
            case STRING -> { for (String s : (String[]) vs) b.str(s); }
            case ARRAY -> { for (GgufArray inner : (GgufArray[]) vs) array(b, inner); }
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Buf {
        private ByteBuffer buf = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);

        private void room(int n) {
            if (buf.remaining() >= n) return;
            int cap = Math.max(buf.capacity() * 2, buf.position() + n);
            ByteBuffer bigger = ByteBuffer.allocate(cap).order(ByteOrder.LITTLE_ENDIAN);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }

        void u8(int v) { room(1); buf.put((byte) v); }
        void i16(int v) { room(2); buf.putShort((short) v); }
        void i32(int v) { room(4); buf.putInt(v); }
        void i64(long v) { room(8); buf.putLong(v); }
        void raw(byte[] b) { room(b.length); buf.put(b); }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            raw(b);
        }

        byte[] bytes() {
            return Arrays.copyOf(buf.array(), buf.position());
        }
    }

    /** Passes bytes through and refuses more than the tensor's size. */
    private static final class CountingStream extends FilterOutputStream {
        private final Entry entry;
        long written;

        CountingStream(OutputStream out, Entry entry) {
            super(out);
            this.entry = entry;
        }

        private void count(long n) throws IOException {
            if (written + n > entry.bytes()) {
                throw new IOException("tensor " + entry.name() + ": its source wrote more than its " + entry.bytes() + " bytes");
            }
            written += n;
        }

        @Override
        public void write(int b) throws IOException {
            count(1);
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count(len);
            out.write(b, off, len);
        }

        @Override
        public void close() {
            // the tensor source must not close the file
        }
    }

    /** Names of the tensors added so far, in order. */
    public List<String> tensorNames() {
        return new ArrayList<>(tensors.keySet());
    }

    /**
     * Writes the header and sizes the file, then maps it read-write so that tensors can be filled
     * in place, in any order and from several threads (each thread its own tensors or rows). The
     * tensor sources given to {@code addTensor} are not called. Closing forces the data to disk
     * and unmaps it; until then the file is incomplete.
     */
    public MappedOutput writeMapped(Path path) throws IOException {
        byte[] header = header();
        long size = fileSize();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(header), 0);
            if (size > header.length) ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            Map<String, MemorySegment> slices = new LinkedHashMap<>();
            long offset = align(header.length);
            for (Entry e : tensors.values()) {
                slices.put(e.name(), seg.asSlice(offset, e.bytes()));
                offset = align(offset + e.bytes());
            }
            return new MappedOutput(arena, seg, slices);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    /** A GGUF file being filled in place; see {@link #writeMapped}. */
    public static final class MappedOutput implements AutoCloseable {
        private final Arena arena;
        private final MemorySegment file;
        private final Map<String, MemorySegment> tensors;

        private MappedOutput(Arena arena, MemorySegment file, Map<String, MemorySegment> tensors) {
            this.arena = arena;
            this.file = file;
            this.tensors = tensors;
        }

        /** The writable bytes of one tensor. */
        public MemorySegment tensor(String name) {
            MemorySegment s = tensors.get(name);
            if (s == null) throw new IllegalArgumentException("no tensor " + name + " in this file");
            return s;
        }

        @Override
        public void close() {
            try {
                file.force();
            } finally {
                arena.close();
            }
        }
    }
}

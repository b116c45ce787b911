package dev.kiri.runtime;

import dev.kiri.gguf.GgufFile;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import dev.kiri.kernels.matmul.Interleave;
import dev.kiri.runtime.model.ModelWeights;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * The kernels' copies of a model's matrices ({@link Interleave}) kept in a file, so that a later load
 * maps them instead of making them again (about a second of a 1B model's load on two cores).
 *
 * <p>One file per model file, {@code NAME-PATHHASH-KEYHASH.kcopy} in the cache directory. Its key is a
 * SHA-256 of the model file's real path, size, modification time and file key (the inode) for
 * every shard, of each copied matrix's name, type and shape, and of the bytes of
 * {@link Interleave}'s class, which holds every copy layout: a changed model file or a runtime
 * whose layouts differ gets a new file (and the old one of that path is deleted), never a stale
 * copy. The file (little-endian): a header of whole 4 KiB pages, {@code "KIRICPY1"}, the format
 * version, the number of matrices, the key, the data's size, then per matrix its offset, length and
 * CRC-32C, then the model file's real path (so that a file whose model is gone can be deleted);
 * then the copies, each at a 4 KiB boundary, largest matrix first. A load checks the
 * header against the key and the expected sizes and every copy against its CRC-32C (on the load's
 * threads; the pages read are the ones the first forward pass would fault in anyway); a file that
 * fails any check is deleted and made again. A file is written under a temporary name and renamed
 * into place when complete; it is not forced to the disk (that took a second of the first load):
 * should a crash lose part of it, its checksums fail and the next load makes it again. Nothing here
 * fails a load: when the cache cannot be read or written (no space, a read-only directory), the load
 * makes its copies in memory, as without a cache, and says why in a warning.
 */
final class CopyCache {
    private static final System.Logger LOG = System.getLogger("dev.kiri.runtime");
    static final long MAGIC = bytesToLong("KIRICPY1");
    static final int VERSION = 1;
    static final int PAGE = 4096;
    static final String SUFFIX = ".kcopy";
    /** Free space kept beyond the file's size before a write is attempted. */
    static final long SPACE_MARGIN = 256L << 20;
    /** Largest piece handed to a channel or a checksum at once. */
    private static final int PIECE = 1 << 30;

    private CopyCache() {
    }

    /** What {@link #load} did: the weights with their copies (mapped or made), and where the copies live. */
    record Result(ModelWeights weights, Arena arena, boolean hit, Path file) {
    }

    /** The default directory: {@code copies} under the cache root ({@link dev.kiri.gguf.ModelArchive#cacheRoot()}). */
    static Path defaultDirectory() {
        return dev.kiri.gguf.ModelArchive.cacheRoot().resolve("copies");
    }

    /**
     * System property: whether Q5_0 matrices are widened into the Q8_0 copy ({@link Interleave}):
     * {@code auto} (the default, {@link #widensQ5_0}), {@code true} or {@code false}.
     */
    static final String WIDEN_Q5_0_PROPERTY = "kiri.widenQ5_0";

    /** The matrices {@link Interleave} copies, in the file's order: largest first, ties in the model's order. */
    static List<Weights> copied(ModelWeights weights) {
        return copied(weights, System.getProperty(WIDEN_Q5_0_PROPERTY, "auto"));
    }

    /** As {@link #copied(ModelWeights)}, with the {@link #WIDEN_Q5_0_PROPERTY} setting given. */
    static List<Weights> copied(ModelWeights weights, String widenQ5_0) {
        List<Weights> todo = new ArrayList<>();
        IdentityHashMap<Weights, Boolean> seen = new IdentityHashMap<>();
        long[] bytes = new long[2];
        weights.mapMatrices(w -> {
            if (seen.put(w, Boolean.TRUE) == null) {
                bytes[0] += w.byteSize();
                if (w.type() == dev.kiri.gguf.GgmlType.Q5_0) bytes[1] += w.byteSize();
                if (Interleave.supports(w)) todo.add(w);
            }
            return w;
        });
        if (!widensQ5_0(widenQ5_0, bytes[1], bytes[0])) todo.removeIf(w -> w.type() == dev.kiri.gguf.GgmlType.Q5_0);
        todo.sort(java.util.Comparator.comparingLong(Weights::byteSize).reversed());
        return todo;
    }

    /**
     * Whether a model's Q5_0 matrices ({@code q5} of its {@code total} matrix bytes) are widened into
     * the Q8_0 copy, whose blocks take 34 bytes where the file's take 22. {@code auto}: when they are at
     * most half of the matrix bytes, as where llama-quantize's K-quant mixes fall back to Q5_0 for rows
     * that are not a multiple of 256 (Qwen2.5-0.5B's Q4_K_M: 44 %, decode 1.5 times faster for 16 %
     * more resident memory), and not when Q5_0 is the model's own type (a Q5_0 file: a fifth faster for
     * 40 % more; docs/KERNELS.md). {@code true} and {@code false} decide regardless; any other value
     * is logged and read as {@code auto}.
     */
    static boolean widensQ5_0(String setting, long q5, long total) {
        return switch (setting) {
            case "auto" -> 2 * q5 <= total;
            case "true" -> true;
            case "false" -> false;
            default -> {
                LOG.log(System.Logger.Level.WARNING, "-D" + WIDEN_Q5_0_PROPERTY + "=" + setting
                        + " is not auto, true or false; using auto");
                yield widensQ5_0("auto", q5, total);
            }
        };
    }

    /**
     * The copies of {@code todo} in {@code arena}, one matrix per task of a pool of {@code threads}
     * (largest first, so that the output matrix, a tenth to a third of a file, overlaps the rest
     * instead of running last and alone); the copied ranges of the file mapping are then released
     * from this process's memory ({@link MemorySegment#unload()}): the products read the copy, so
     * the file's pages would only count twice.
     */
    static Weights[] make(List<Weights> todo, Arena arena, int threads) {
        Weights[] done = new Weights[todo.size()];
        if (done.length == 0) return done;
        try (ThreadPool pool = new ThreadPool(Math.max(1, Math.min(threads, todo.size())))) {
            pool.run(done.length, i -> {
                Weights w = todo.get(i);
                done[i] = Interleave.interleave(w, arena);
                if (w.data().isMapped()) w.data().unload();
            });
        }
        return done;
    }

    /**
     * {@link #make}, or null (with a warning) when the memory for the copies cannot be had: they are
     * an optimisation, and without them every matrix is read from the file mapping.
     */
    static Weights[] makeOrNull(List<Weights> todo, Arena arena, int threads, String name) {
        try {
            return make(todo, arena, threads);
        } catch (OutOfMemoryError e) {
            LOG.log(System.Logger.Level.WARNING, name + ": no memory for the kernels' copies of the Q4_0, Q8_0, Q5_0 and K-quant matrices ("
                    + e.getMessage() + "); reading every matrix from the file mapping");
            return null;
        }
    }

    /** {@code weights} with each matrix of {@code todo} replaced by the one at the same index of {@code done}. */
    static ModelWeights replace(ModelWeights weights, List<Weights> todo, Weights[] done) {
        Map<Weights, Weights> copies = new IdentityHashMap<>();
        for (int i = 0; i < done.length; i++) copies.put(todo.get(i), done[i]);
        return weights.mapMatrices(w -> copies.getOrDefault(w, w));
    }

    /**
     * {@code weights} with the copies of its matrices: mapped from {@code dir}'s file for this model
     * when a valid one is there, else made in memory ({@link #make}) and written to that file for the
     * next load; with {@code dir} null, made in memory and saved nowhere. Returns null, with a
     * warning, when the copies cannot be made for want of memory.
     */
    static Result load(GgufFile file, ModelWeights weights, Path dir, int threads, String name) {
        List<Weights> todo = copied(weights);
        if (todo.isEmpty()) return new Result(weights, null, false, null);
        byte[] key = null;
        byte[] origin = null;
        Path target = null;
        if (dir != null) {
            try {
                key = key(file, todo);
                origin = file.path().toRealPath().toString().getBytes(StandardCharsets.UTF_8);
                target = dir.resolve(fileName(file.path(), key));
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": the copy cache in " + dir + " is not used (" + e + ")");
            }
        }
        long[] offsets = new long[todo.size()];
        long end = headerBytes(todo.size(), origin == null ? 0 : origin.length);
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = end;
            end = align(end + Interleave.bytes(todo.get(i)));
        }
        if (target != null && Files.isRegularFile(target)) {
            Arena arena = Arena.ofShared();
            try {
                Weights[] mapped = map(target, todo, offsets, end, key, origin, threads, arena);
                if (mapped != null) return new Result(replace(weights, todo, mapped), arena, true, target);
                arena.close();
                LOG.log(System.Logger.Level.WARNING, name + ": " + target + " does not match this model or is damaged; making the copies again");
            } catch (IOException | RuntimeException e) {
                arena.close();
                LOG.log(System.Logger.Level.WARNING, name + ": cannot read " + target + " (" + e + "); making the copies again");
            }
            try {
                Files.deleteIfExists(target);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": cannot delete " + target + ": " + e);
            }
        }
        Arena arena = Arena.ofShared();
        Weights[] done;
        try {
            done = makeOrNull(todo, arena, threads, name);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        if (done == null) {
            arena.close();
            return null;
        }
        boolean saved = false;
        if (target != null) {
            try {
                saved = write(dir, target, done, offsets, end, key, origin, threads, name);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, name + ": the copies were not saved to " + dir + " (" + e + ")");
            }
        }
        return new Result(replace(weights, todo, done), arena, false, saved ? target : null);
    }

    /** The matrices of {@code todo} with their copies mapped from {@code path}, or null when its header or a checksum does not match. */
    private static Weights[] map(Path path, List<Weights> todo, long[] offsets, long end, byte[] key, byte[] origin,
                                 int threads, Arena arena) throws IOException {
        MemorySegment all;
        long[] crcs = new long[todo.size()];
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (ch.size() != end) return null;
            long header = headerBytes(todo.size(), origin.length);
            ByteBuffer h = ByteBuffer.allocate((int) header).order(ByteOrder.LITTLE_ENDIAN);
            while (h.hasRemaining()) {
                if (ch.read(h, h.position()) < 0) return null;
            }
            h.flip();
            if (h.getLong() != MAGIC || h.getInt() != VERSION || h.getInt() != todo.size()) return null;
            byte[] k = new byte[32];
            h.get(k);
            if (!Arrays.equals(k, key) || h.getLong() != end - header || h.getLong() != 0) return null;
            for (int i = 0; i < todo.size(); i++) {
                if (h.getLong() != offsets[i] || h.getLong() != Interleave.bytes(todo.get(i))) return null;
                crcs[i] = h.getLong();
            }
            if (h.getInt() != origin.length) return null;
            byte[] o = new byte[origin.length];
            h.get(o);
            if (!Arrays.equals(o, origin)) return null;
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, end, arena);
        }
        MemorySegment data = all;
        long[] got = checksums(todo.size(), i -> data.asSlice(offsets[i], Interleave.bytes(todo.get(i))), threads);
        if (!Arrays.equals(got, crcs)) return null;
        Weights[] out = new Weights[todo.size()];
        for (int i = 0; i < out.length; i++) {
            Weights w = todo.get(i);
            out[i] = new Weights(w.name(), w.type(), w.data(), w.rows(), w.cols(), all.asSlice(offsets[i], Interleave.bytes(w)));
        }
        return out;
    }

    /**
     * Writes the copies of {@code done} to {@code target} through a temporary file; false (with a
     * warning) when the disk lacks the space.
     */
    private static boolean write(Path dir, Path target, Weights[] done, long[] offsets, long end, byte[] key, byte[] origin,
                                 int threads, String name) throws IOException {
        MemorySegment[] segs = new MemorySegment[done.length];
        for (int i = 0; i < segs.length; i++) segs[i] = done[i].interleaved();
        Files.createDirectories(dir);
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < end + SPACE_MARGIN) {
            LOG.log(System.Logger.Level.WARNING, name + ": the copies (" + (end >> 20) + " MiB) were not saved to " + dir
                    + ": " + (free >> 20) + " MiB free");
            return false;
        }
        long[] crcs = checksums(segs.length, i -> segs[i], threads);
        long header = headerBytes(segs.length, origin.length);
        ByteBuffer h = ByteBuffer.allocate((int) header).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(MAGIC).putInt(VERSION).putInt(segs.length).put(key).putLong(end - header).putLong(0);
        for (int i = 0; i < segs.length; i++) h.putLong(offsets[i]).putLong(segs[i].byteSize()).putLong(crcs[i]);
        h.putInt(origin.length).put(origin);
        h.clear();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeFully(ch, h, 0);
                for (int i = 0; i < segs.length; i++) {
                    for (long o = 0, n = segs[i].byteSize(); o < n; o += PIECE) {
                        writeFully(ch, segs[i].asSlice(o, Math.min(PIECE, n - o)).asByteBuffer(), offsets[i] + o);
                    }
                }
                if (ch.size() < end) writeFully(ch, ByteBuffer.allocate(1), end - 1); // the last copy's padding
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        removeStale(dir, target, name);
        return true;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) at += ch.write(b, at);
    }

    /**
     * Deletes the other files of the same model path (made for an earlier version of the file or of
     * the layouts), their temporary files over an hour old (left by a process that was killed while
     * writing; a younger one may be another process's write in progress), and the files of models
     * that no longer exist (the path a file was made from is in its header). Files of other formats
     * are left alone.
     */
    private static void removeStale(Path dir, Path target, String name) {
        String f = target.getFileName().toString();
        String prefix = f.substring(0, f.lastIndexOf('-') + 1);
        long hourAgo = System.currentTimeMillis() - 3_600_000L;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> {
            String s = p.getFileName().toString();
            if (s.startsWith(prefix) && s.endsWith(SUFFIX) && !s.equals(f)) return true;
            if (s.startsWith("." + prefix) && s.endsWith(".part")) return Files.getLastModifiedTime(p).toMillis() < hourAgo;
            if (!s.endsWith(SUFFIX) || s.equals(f)) return false;
            Path from = origin(p);
            return from != null && Files.notExists(from);
        })) {
            for (Path p : ds) Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, name + ": cannot remove older copies in " + dir + ": " + e);
        }
    }

    /** The model path in the header of a copy cache file, or null when it is not one (or unreadable). */
    static Path origin(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(h, 0) < 64 || h.getLong(0) != MAGIC || h.getInt(8) != VERSION) return null;
            int n = h.getInt(12);
            if (n < 0 || n > 1_000_000) return null;
            ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(len, 64 + 24L * n) < 4) return null;
            int bytes = len.getInt(0);
            if (bytes <= 0 || bytes > 1 << 16) return null;
            ByteBuffer path = ByteBuffer.allocate(bytes);
            if (ch.read(path, 68 + 24L * n) < bytes) return null;
            return Path.of(new String(path.array(), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** CRC-32C of each of {@code n} segments, computed on a pool of {@code threads}. */
    private static long[] checksums(int n, java.util.function.IntFunction<MemorySegment> seg, int threads) {
        long[] out = new long[n];
        try (ThreadPool pool = new ThreadPool(Math.max(1, Math.min(threads, n)))) {
            pool.run(n, i -> {
                MemorySegment s = seg.apply(i);
                CRC32C crc = new CRC32C();
                for (long o = 0, len = s.byteSize(); o < len; o += PIECE) crc.update(s.asSlice(o, Math.min(PIECE, len - o)).asByteBuffer());
                out[i] = crc.getValue();
            });
        }
        return out;
    }

    /** The key of a model's copies (see the class comment). */
    static byte[] key(GgufFile file, List<Weights> todo) throws IOException {
        MessageDigest sha = sha256();
        update(sha, "kiri copies " + VERSION);
        sha.update(layoutDigest());
        for (GgufFile.Shard s : file.shards()) {
            Path real = s.path().toRealPath();
            BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class);
            update(sha, real + "|" + a.size() + "|" + a.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "|" + a.fileKey());
        }
        for (Weights w : todo) {
            update(sha, w.name() + "|" + w.type() + "|" + w.rows() + "|" + w.cols() + "|" + w.byteSize() + "|" + Interleave.bytes(w));
        }
        return sha.digest();
    }

    /** {@code NAME-PATHHASH-KEYHASH.kcopy}: the model file's name for people, its path's hash for the stale-file sweep, the key's. */
    static String fileName(Path model, byte[] key) throws IOException {
        String base = String.valueOf(model.getFileName()).replaceAll("[^A-Za-z0-9._-]", "_");
        if (base.length() > 80) base = base.substring(0, 80);
        byte[] ph = sha256().digest(model.toRealPath().toString().getBytes(StandardCharsets.UTF_8));
        HexFormat hex = HexFormat.of();
        return base + "-" + hex.formatHex(ph, 0, 6) + "-" + hex.formatHex(key, 0, 12) + SUFFIX;
    }

    private static volatile byte[] layout;

    /** SHA-256 of {@link Interleave}'s class file: any change to a copy's layout changes it. */
    static byte[] layoutDigest() throws IOException {
        byte[] d = layout;
        if (d == null) {
            try (InputStream in = Interleave.class.getResourceAsStream("Interleave.class")) {
                if (in == null) throw new IOException("the class file of " + Interleave.class.getName() + " cannot be read");
                d = sha256().digest(in.readAllBytes());
            }
            layout = d;
        }
        return d;
    }

    /** Bytes of the header: the fixed 64, 24 per copy, the model path's length and bytes, to a whole page. */
    static long headerBytes(int entries, int originBytes) {
        return align(64L + 24L * entries + 4 + originBytes);
    }

    private static long align(long n) {
        return (n + PAGE - 1) & -PAGE;
    }

    private static void update(MessageDigest sha, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(b.length).array());
        sha.update(b);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long bytesToLong(String eight) {
        return ByteBuffer.wrap(eight.getBytes(StandardCharsets.US_ASCII)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}

package dev.kiri.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An open GGUF model: header, metadata and tensor directory, with every file mapped read-only.
 *
 * <pre>
 *  offset 0        "GGUF" magic, uint32 version (2 or 3), uint64 tensor count, uint64 kv count
 *                  kv count x { string key, uint32 value type, value }
 *                  tensor count x { string name, uint32 n_dims, uint64 ne[n_dims], uint32 type, uint64 offset }
 *  align(general.alignment, default 32)
 *  data section    tensor bytes, each at data start + its offset (offsets aligned too)
 * </pre>
 *
 * Opening costs time proportional to the header: the file is mapped, never read whole, and a
 * tensor's {@link GgufTensor#data() data} is a slice of the mapping. A split model
 * ({@code name-00001-of-00003.gguf}) opens as one file when given its first shard; its metadata is
 * the first shard's and its tensors are the union of every shard's. {@link #close()} unmaps
 * everything; tensor segments must not be used after it.
 *
 * <p>Instances are immutable after open and safe to share between threads.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    public static final int DEFAULT_ALIGNMENT = 32;
    private static final Pattern SPLIT_NAME = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");

    private final Path path;
    private final Arena arena;
    private final List<Shard> shards;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensor> tensors;

    /** One mapped file of a (possibly split) model. */
    public record Shard(Path path, int version, int alignment, long dataOffset, MemorySegment segment,
                        GgufMetadata metadata, List<GgufTensor> tensors) {
    }

    private GgufFile(Path path, Arena arena, List<Shard> shards) {
        this.path = path;
        this.arena = arena;
        this.shards = List.copyOf(shards);
        this.metadata = shards.getFirst().metadata();
        Map<String, GgufTensor> all = new LinkedHashMap<>();
        for (Shard s : shards) for (GgufTensor t : s.tensors()) all.put(t.name(), t);
        this.tensors = Collections.unmodifiableMap(all);
    }

    /**
     * Opens a GGUF file, or the first shard of a split model (its other shards must sit beside it).
     * A {@code .tar}, {@code .tar.gz}, {@code .tar.xz} or {@code .zip} archive holding the model is
     * first extracted into the cache directory (once; see {@link ModelArchive}) and the extracted
     * file is opened.
     *
     * @throws GgufFormatException if the file is not valid GGUF; the message names what and where
     * @throws IOException         if the file cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        if (ModelArchive.isArchive(path)) return openGguf(ModelArchive.extract(path, ModelArchive.cacheRoot()));
        return openGguf(path);
    }

    private static GgufFile openGguf(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            Shard first = GgufParser.parse(path, map(path, arena));
            List<Shard> shards = new ArrayList<>();
            shards.add(first);
            int count = first.metadata().optInt("split.count").orElse(1);
            if (count > 1) {
                int no = first.metadata().optInt("split.no").orElse(0);
                if (no != 0) {
                    throw new GgufFormatException(path + ": this is shard " + (no + 1) + " of " + count
                            + " of a split model; open the first shard (-00001-of-" + String.format("%05d", count) + ")");
                }
                Matcher m = SPLIT_NAME.matcher(path.getFileName().toString());
                if (!m.matches()) {
                    throw new GgufFormatException(path + ": split.count is " + count
                            + " but the name does not follow NAME-00001-of-NNNNN.gguf, so the other shards cannot be found");
                }
                for (int i = 2; i <= count; i++) {
                    Path p = path.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i, count));
                    if (!Files.exists(p)) throw new GgufFormatException(path + ": shard " + i + " of " + count + " is missing: " + p);
                    Shard s = GgufParser.parse(p, map(p, arena));
                    int sNo = s.metadata().optInt("split.no").orElse(-1);
                    if (sNo != i - 1) throw new GgufFormatException(p + ": split.no is " + sNo + ", expected " + (i - 1));
                    shards.add(s);
                }
                long total = 0;
                Set<String> names = new HashSet<>();
                for (Shard s : shards) {
                    for (GgufTensor t : s.tensors()) {
                        if (!names.add(t.name())) throw new GgufFormatException(s.path() + ": tensor " + t.name() + " is also in another shard");
                    }
                    total += s.tensors().size();
                }
                Optional<Long> declared = first.metadata().optLong("split.tensors.count");
                if (declared.isPresent() && declared.get() != total) {
                    throw new GgufFormatException(path + ": split.tensors.count is " + declared.get()
                            + " but the shards hold " + total + " tensors");
                }
            }
            return new GgufFile(path, arena, shards);
        } catch (IllegalArgumentException e) {
            // a split.* key of the wrong type or range: still a malformed file
            arena.close();
            throw new GgufFormatException(e.getMessage(), e);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    private static MemorySegment map(Path path, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) return MemorySegment.ofArray(new byte[0]); // nothing to map; the parser reports it
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
    }

    public Path path() {
        return path;
    }

    /** The GGUF version of the (first) file: 2 or 3. */
    public int version() {
        return shards.getFirst().version();
    }

    public int alignment() {
        return shards.getFirst().alignment();
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** The shards, in order; a plain file has one. */
    public List<Shard> shards() {
        return shards;
    }

    /** Every tensor, in file order (shard by shard). */
    public Collection<GgufTensor> tensors() {
        return tensors.values();
    }

    public Optional<GgufTensor> findTensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor with this name; a clear error naming the file and tensor if absent. */
    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException(path + ": tensor " + name + " is missing");
        return t;
    }

    /** Total bytes of all files. */
    public long fileSize() {
        long n = 0;
        for (Shard s : shards) n += s.segment().byteSize();
        return n;
    }

    /** Unmaps every file. Tensor data segments are invalid afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version() + ", " + metadata.keys().size() + " keys, " + tensors.size() + " tensors]";
    }
}

package dev.kiri.gguf;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

/**
 * A GGUF model (or the shards of a split model) inside a {@code .tar}, {@code .tar.gz}/{@code .tgz},
 * {@code .tar.xz}/{@code .txz} or {@code .zip} archive.
 *
 * <p>The archive is extracted once into a cache directory, keyed by the archive's absolute path,
 * size and modification time, so a second open reuses the files (and a changed archive is
 * extracted again). Extraction is atomic: entries are written into a private temporary directory,
 * each file's size is checked against its archive entry, and only then is the directory renamed
 * into place. Only regular {@code .gguf} entries are extracted, but every entry is checked: one
 * whose name is absolute or climbs out with {@code ..}, and any link, make the whole archive be
 * refused with a {@link GgufFormatException}.
 *
 * <p>The cache root is the system property {@code kiri.cache.dir}, or else {@code $KIRI_CACHE}
 * (where {@code hf://} downloads go too), or else {@code $XDG_CACHE_HOME/kiri}, or else
 * {@code ~/.cache/kiri}.
 */
public final class ModelArchive {
    private static final String[] SUFFIXES = {".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".zip"};
    private static final String MANIFEST = ".kiri-extracted";

    private ModelArchive() {
    }

    /** True if the file name ends with an archive extension we extract. */
    public static boolean isArchive(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String s : SUFFIXES) if (name.endsWith(s)) return true;
        return false;
    }

    /** The cache root: {@code kiri.cache.dir}, {@code $KIRI_CACHE}, {@code $XDG_CACHE_HOME/kiri} or {@code ~/.cache/kiri}. */
    public static Path cacheRoot() {
        String prop = System.getProperty("kiri.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("KIRI_CACHE");
        if (env != null && !env.isBlank()) return Path.of(env);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "kiri");
        return Path.of(System.getProperty("user.home"), ".cache", "kiri");
    }

    /**
     * Extracts the archive into the cache (unless an earlier extraction is there and complete) and
     * returns the GGUF file to open: the only {@code .gguf} in the archive, or the first shard of a
     * split model.
     *
     * @throws GgufFormatException if the archive is unreadable, holds no GGUF, several unrelated
     *                             ones, an entry whose size does not match, or an unsafe entry
     */
    public static Path extract(Path archive, Path cacheRoot) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(archive, BasicFileAttributes.class);
        String key = archive.getFileName() + "-" + digest(archive.toAbsolutePath().normalize() + "|" + attrs.size()
                + "|" + attrs.lastModifiedTime().toMillis());
        Path root = cacheRoot.resolve("archives");
        Path target = root.resolve(key);
        List<Path> reused = completeExtraction(target);
        if (reused != null) return choose(archive, target, reused);

        Files.createDirectories(root);
        if (Files.exists(target)) deleteTree(target); // an incomplete or damaged earlier extraction
        Path tmp = Files.createTempDirectory(root, "." + key + ".part-");
        try {
            List<String> files = kindOf(archive) == Kind.ZIP ? unzip(archive, tmp) : untar(archive, tmp);
            Properties manifest = new Properties();
            for (String f : files) manifest.setProperty(f, Long.toString(Files.size(tmp.resolve(f))));
            try (OutputStream out = Files.newOutputStream(tmp.resolve(MANIFEST))) {
                manifest.store(out, "files extracted from " + archive.getFileName() + " and their sizes");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                // Another process may have finished the same extraction first: use its copy.
                if (completeExtraction(target) == null) throw e;
            }
        } finally {
            if (Files.exists(tmp)) deleteTree(tmp);
        }
        List<Path> extracted = completeExtraction(target);
        if (extracted == null) throw new IOException(target + ": extraction of " + archive + " did not complete");
        return choose(archive, target, extracted);
    }

    private enum Kind { TAR, TAR_GZ, TAR_XZ, ZIP }

    private static Kind kindOf(Path archive) {
        String name = archive.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".zip")) return Kind.ZIP;
        if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) return Kind.TAR_GZ;
        if (name.endsWith(".tar.xz") || name.endsWith(".txz")) return Kind.TAR_XZ;
        return Kind.TAR;
    }

    private static List<String> untar(Path archive, Path dir) throws IOException {
        List<String> files = new ArrayList<>();
        InputStream raw = new BufferedInputStream(Files.newInputStream(archive), 1 << 16);
        try {
            InputStream in = switch (kindOf(archive)) {
                case TAR_GZ -> GzipCompressorInputStream.builder().setInputStream(raw).setDecompressConcatenated(true).get();
                case TAR_XZ -> new XZCompressorInputStream(raw);
                default -> raw;
            };
            try (TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    String name = e.getName();
                    if (e.isSymbolicLink() || e.isLink()) throw unsafe(archive, name, "is a link");
                    Path out = safeTarget(archive, dir, name);
                    if (e.isDirectory()) continue;
                    if (!e.isFile()) throw unsafe(archive, name, "is not a regular file");
                    if (!isGguf(name)) continue;
                    copy(archive, name, tar, out, e.getSize());
                    files.add(dir.relativize(out).toString());
                }
            }
        } catch (GgufFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            if (e instanceof WriteFailure w) throw w.cause;
            throw new GgufFormatException(archive + ": cannot read the archive: " + e.getMessage(), e);
        } finally {
            raw.close();
        }
        return files;
    }

    private static List<String> unzip(Path archive, Path dir) throws IOException {
        List<String> files = new ArrayList<>();
        ZipFile zip;
        try {
            zip = ZipFile.builder().setPath(archive).get();
        } catch (IOException | RuntimeException e) {
            throw new GgufFormatException(archive + ": cannot read the zip archive: " + e.getMessage(), e);
        }
        try (zip) {
            // Check every entry before writing anything.
            List<ZipArchiveEntry> wanted = new ArrayList<>();
            for (Enumeration<ZipArchiveEntry> en = zip.getEntries(); en.hasMoreElements(); ) {
                ZipArchiveEntry e = en.nextElement();
                if (e.isUnixSymlink()) throw unsafe(archive, e.getName(), "is a link");
                safeTarget(archive, dir, e.getName());
                if (!e.isDirectory() && isGguf(e.getName())) wanted.add(e);
            }
            for (ZipArchiveEntry e : wanted) {
                Path out = safeTarget(archive, dir, e.getName());
                try (InputStream in = zip.getInputStream(e)) {
                    copy(archive, e.getName(), in, out, e.getSize());
                }
                files.add(dir.relativize(out).toString());
            }
        } catch (GgufFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            if (e instanceof WriteFailure w) throw w.cause;
            throw new GgufFormatException(archive + ": cannot read the zip archive: " + e.getMessage(), e);
        }
        return files;
    }

    private static boolean isGguf(String entryName) {
        return entryName.toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** The extraction path of an entry, refusing names that are absolute or leave {@code dir}. */
    private static Path safeTarget(Path archive, Path dir, String name) throws GgufFormatException {
        if (name.isEmpty() || name.startsWith("/") || name.startsWith("\\") || name.contains("\0")
                || (name.length() > 1 && name.charAt(1) == ':')) {
            throw unsafe(archive, name, "has an absolute path");
        }
        for (String part : name.split("[/\\\\]")) {
            if (part.equals("..")) throw unsafe(archive, name, "climbs out of the extraction directory");
        }
        Path out = dir.resolve(name).normalize();
        if (!out.startsWith(dir) || out.equals(dir) && !name.endsWith("/")) {
            throw unsafe(archive, name, "escapes the extraction directory");
        }
        return out;
    }

    private static GgufFormatException unsafe(Path archive, String entry, String why) {
        return new GgufFormatException(archive + ": refusing archive entry \"" + entry + "\": it " + why);
    }

    /** An output-side failure, kept apart from failures to read the archive. */
    private static final class WriteFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient IOException cause;

        WriteFailure(IOException cause) {
            super(cause);
            this.cause = cause;
        }
    }

    /** Copies one entry to a temporary file beside {@code out}, checks its size, then renames it. */
    private static void copy(Path archive, String name, InputStream in, Path out, long expected) throws IOException {
        Path part = out.resolveSibling(out.getFileName() + ".part");
        long written = 0;
        byte[] buf = new byte[1 << 16];
        OutputStream o;
        try {
            Files.createDirectories(out.getParent());
            o = Files.newOutputStream(part);
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
        try (o) {
            int n;
            while ((n = in.read(buf)) > 0) {
                try {
                    o.write(buf, 0, n);
                } catch (IOException e) {
                    throw new WriteFailure(e);
                }
                written += n;
            }
        }
        if (expected >= 0 && written != expected) {
            throw new GgufFormatException(archive + ": entry " + name + " holds " + written + " bytes but the archive says "
                    + expected);
        }
        try {
            Files.move(part, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new WriteFailure(e);
        }
    }

    /** The extracted files if {@code dir} holds a complete extraction (manifest present, sizes right), else null. */
    private static List<Path> completeExtraction(Path dir) throws IOException {
        Path manifestFile = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(manifestFile)) return null;
        Properties manifest = new Properties();
        try (InputStream in = Files.newInputStream(manifestFile)) {
            manifest.load(in);
        } catch (IllegalArgumentException e) {
            return null;
        }
        List<Path> files = new ArrayList<>();
        for (String name : manifest.stringPropertyNames()) {
            Path f = dir.resolve(name).normalize();
            if (!f.startsWith(dir) || !Files.isRegularFile(f)) return null;
            try {
                if (Files.size(f) != Long.parseLong(manifest.getProperty(name))) return null;
            } catch (NumberFormatException e) {
                return null;
            }
            files.add(f);
        }
        files.sort(Comparator.naturalOrder());
        return files;
    }

    /** The file to open: the only GGUF, or the first shard when all are shards of one split model. */
    private static Path choose(Path archive, Path dir, List<Path> files) throws GgufFormatException {
        if (files.isEmpty()) throw new GgufFormatException(archive + ": the archive holds no .gguf file");
        if (files.size() == 1) return files.getFirst();
        List<Path> firsts = files.stream().filter(f -> f.getFileName().toString().matches(".*-00001-of-\\d{5}\\.gguf")).toList();
        if (firsts.size() == 1) return firsts.getFirst();
        throw new GgufFormatException(archive + ": the archive holds " + files.size() + " GGUF files that are not the shards of one model: "
                + files.stream().map(f -> dir.relativize(f).toString()).toList());
    }

    private static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}

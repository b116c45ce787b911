package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelArchiveTest {
    @TempDir
    Path dir;

    private Path cache() {
        return dir.resolve("cache");
    }

    private static byte[] gguf(String arch, String... extraKeyValue) throws IOException {
        GgufWriter w = new GgufWriter().putString("general.architecture", arch);
        for (int i = 0; i + 1 < extraKeyValue.length; i += 2) w.putString(extraKeyValue[i], extraKeyValue[i + 1]);
        w.addTensor("w", GgmlType.F32, new long[]{4}, new float[]{1, 2, 3, 4});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    private static byte[] shard(int no, int count) throws IOException {
        GgufWriter w = new GgufWriter();
        if (no == 0) w.putString("general.architecture", "llama");
        w.put("split.no", new GgufValue(GgufValueType.UINT16, (long) no));
        w.put("split.count", new GgufValue(GgufValueType.UINT16, (long) count));
        w.addTensor("t" + no, GgmlType.F32, new long[]{4}, new float[]{no, no, no, no});
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    /** Writes a tar, tar.gz or tar.xz (by the name's extension) with regular files. */
    private Path tar(String name, Map<String, byte[]> files) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream raw = Files.newOutputStream(p);
             OutputStream c = name.endsWith(".gz") || name.endsWith(".tgz") ? new GzipCompressorOutputStream(raw)
                     : name.endsWith(".xz") ? new XZCompressorOutputStream(raw) : raw;
             TarArchiveOutputStream tar = new TarArchiveOutputStream(c)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : files.entrySet()) {
                TarArchiveEntry entry = new TarArchiveEntry(e.getKey(), true);
                entry.setSize(e.getValue().length);
                tar.putArchiveEntry(entry);
                tar.write(e.getValue());
                tar.closeArchiveEntry();
            }
        }
        return p;
    }

    private Path zip(String name, Map<String, byte[]> files) throws IOException {
        Path p = dir.resolve(name);
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(p)) {
            for (var e : files.entrySet()) {
                zip.putArchiveEntry(new ZipArchiveEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeArchiveEntry();
            }
        }
        return p;
    }

    private Path archive(String name, Map<String, byte[]> files) throws IOException {
        return name.endsWith(".zip") ? zip(name, files) : tar(name, files);
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.tar", "model.tar.gz", "model.tgz", "model.tar.xz", "model.zip"})
    void modelInsideAnArchiveIsExtractedAndOpens(String name) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("README.md", "not a model".getBytes());
        files.put("tiny/model.gguf", gguf("qwen2"));
        Path archive = archive(name, files);
        Path extracted = ModelArchive.extract(archive, cache());
        assertTrue(extracted.startsWith(cache()), extracted.toString());
        assertEquals("model.gguf", extracted.getFileName().toString());
        assertEquals(-1, Files.mismatch(extracted, writeTemp(files.get("tiny/model.gguf"))));
        try (GgufFile f = GgufFile.open(extracted)) {
            assertEquals("qwen2", f.metadata().getString("general.architecture"));
        }
        try (Stream<Path> all = Files.walk(cache())) {
            assertFalse(all.anyMatch(p -> p.getFileName().toString().equals("README.md")), "only GGUF files are extracted");
        }
    }

    private Path writeTemp(byte[] b) throws IOException {
        Path p = Files.createTempFile(dir, "expected", ".bin");
        Files.write(p, b);
        return p;
    }

    @Test
    void ggufFileOpenRecognisesArchivesAndUsesTheConfiguredCache() throws IOException {
        Path archive = tar("m.tar.gz", Map.of("m.gguf", gguf("gemma")));
        String before = System.getProperty("kiri.cache.dir");
        System.setProperty("kiri.cache.dir", cache().toString());
        try (GgufFile f = GgufFile.open(archive)) {
            assertEquals("gemma", f.metadata().getString("general.architecture"));
            assertTrue(f.path().startsWith(cache()), f.path().toString());
        } finally {
            if (before == null) System.clearProperty("kiri.cache.dir");
            else System.setProperty("kiri.cache.dir", before);
        }
    }

    @Test
    void secondOpenReusesTheExtraction() throws IOException {
        Path archive = tar("m.tar", Map.of("m.gguf", gguf("llama")));
        Path first = ModelArchive.extract(archive, cache());
        Object inode = Files.readAttributes(first, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        Path marker = first.resolveSibling("marker");
        Files.writeString(marker, "still here");
        Path second = ModelArchive.extract(archive, cache());
        assertEquals(first, second);
        assertEquals(inode, Files.readAttributes(second, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
        assertTrue(Files.exists(marker), "the cached directory was not replaced");
    }

    @Test
    void changedArchiveIsExtractedAgain() throws IOException {
        Path archive = tar("m.tar", Map.of("m.gguf", gguf("llama")));
        Path first = ModelArchive.extract(archive, cache());
        tar("m.tar", Map.of("m.gguf", gguf("qwen3", "general.name", "changed")));
        Files.setLastModifiedTime(archive, FileTime.fromMillis(Files.getLastModifiedTime(archive).toMillis() + 5000));
        Path second = ModelArchive.extract(archive, cache());
        assertNotEquals(first, second);
        try (GgufFile f = GgufFile.open(second)) {
            assertEquals("qwen3", f.metadata().getString("general.architecture"));
        }
    }

    @Test
    void damagedCacheIsExtractedAgain() throws IOException {
        byte[] model = gguf("llama");
        Path archive = zip("m.zip", Map.of("m.gguf", model));
        Path first = ModelArchive.extract(archive, cache());
        Files.write(first, Arrays.copyOf(model, 10)); // e.g. a disk that filled up, or a user's edit
        Path second = ModelArchive.extract(archive, cache());
        assertEquals(model.length, Files.size(second));
        try (GgufFile f = GgufFile.open(second)) {
            assertEquals(4, f.tensor("w").elementCount());
        }
    }

    @Test
    void splitModelInAnArchiveOpensFromItsFirstShard() throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("m/big-00002-of-00003.gguf", shard(1, 3));
        files.put("m/big-00001-of-00003.gguf", shard(0, 3));
        files.put("m/big-00003-of-00003.gguf", shard(2, 3));
        Path extracted = ModelArchive.extract(tar("split.tar.xz", files), cache());
        assertEquals("big-00001-of-00003.gguf", extracted.getFileName().toString());
        try (GgufFile f = GgufFile.open(extracted)) {
            assertEquals(3, f.tensors().size());
        }
    }

    private void refused(Path archive, String... inMessage) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> ModelArchive.extract(archive, cache()));
        for (String s : inMessage) assertTrue(e.getMessage().contains(s), e.getMessage());
        assertTrue(e.getMessage().contains(archive.toString()), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"../evil.gguf", "a/../../evil.gguf", "/tmp/evil.gguf", "..\\evil.gguf"})
    void entriesEscapingTheTargetAreRefused(String entry) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("ok.gguf", gguf("llama"));
        files.put(entry, gguf("evil"));
        refused(tar("evil.tar", files), "refusing", "evil.gguf");
        refused(zip("evil.zip", files), "refusing", "evil.gguf");
        try (Stream<Path> all = Files.walk(dir)) {
            assertFalse(all.anyMatch(p -> p.getFileName().toString().equals("evil.gguf")), "nothing was written");
        }
        assertNoCompletedExtraction();
    }

    private void assertNoCompletedExtraction() throws IOException {
        Path root = cache().resolve("archives");
        if (!Files.exists(root)) return;
        try (Stream<Path> entries = Files.list(root)) {
            assertEquals(0, entries.count(), "no extraction, complete or partial, is left in the cache");
        }
    }

    @Test
    void tarSymlinkAndHardLinkAreRefused() throws IOException {
        for (byte kind : new byte[]{TarConstants.LF_SYMLINK, TarConstants.LF_LINK}) {
            Path p = dir.resolve("link" + kind + ".tar");
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(p))) {
                TarArchiveEntry link = new TarArchiveEntry("model.gguf", kind);
                link.setLinkName("/etc/passwd");
                tar.putArchiveEntry(link);
                tar.closeArchiveEntry();
            }
            refused(p, "refusing", "link");
        }
        assertNoCompletedExtraction();
    }

    @Test
    void zipSymlinkIsRefused() throws IOException {
        Path p = dir.resolve("link.zip");
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(p)) {
            ZipArchiveEntry e = new ZipArchiveEntry("model.gguf");
            e.setUnixMode(0120777);
            zip.putArchiveEntry(e);
            zip.write("/etc/passwd".getBytes());
            zip.closeArchiveEntry();
        }
        refused(p, "refusing", "link");
    }

    @Test
    void truncatedArchiveIsAFormatErrorAndLeavesNothingBehind() throws IOException {
        byte[] big = new byte[100_000];
        new java.util.Random(5).nextBytes(big);
        Path full = tar("full.tar", Map.of("m.gguf", big));
        byte[] bytes = Files.readAllBytes(full);
        Path cut = dir.resolve("cut.tar");
        Files.write(cut, Arrays.copyOf(bytes, 60_000));
        refused(cut);
        assertNoCompletedExtraction();
    }

    @Test
    void corruptCompressedStreamIsAFormatError() throws IOException {
        Path p = tar("m.tar.gz", Map.of("m.gguf", gguf("llama")));
        byte[] b = Files.readAllBytes(p);
        for (int i = 20; i < b.length - 8; i++) b[i] ^= 0x5A;
        Files.write(p, b);
        refused(p, "cannot read");
    }

    @Test
    void archiveWithoutAModelOrWithTwoModelsIsRefused() throws IOException {
        refused(tar("none.tar", Map.of("README.md", new byte[3])), "no .gguf");
        Map<String, byte[]> two = new LinkedHashMap<>();
        two.put("a.gguf", gguf("llama"));
        two.put("b.gguf", gguf("qwen2"));
        refused(zip("two.zip", two), "2 GGUF files");
    }

    @Test
    void archiveExtensionsAreRecognised() {
        for (String n : new String[]{"a.tar", "a.TAR.GZ", "a.tgz", "a.tar.xz", "a.txz", "a.zip"}) {
            assertTrue(ModelArchive.isArchive(Path.of(n)), n);
        }
        for (String n : new String[]{"a.gguf", "a.gz", "a.xz", "tar"}) assertFalse(ModelArchive.isArchive(Path.of(n)), n);
    }

    @Test
    void cacheRootFollowsTheSystemProperty() {
        String before = System.getProperty("kiri.cache.dir");
        try {
            System.setProperty("kiri.cache.dir", "/somewhere/else");
            assertEquals(Path.of("/somewhere/else"), ModelArchive.cacheRoot());
            System.clearProperty("kiri.cache.dir");
            assertTrue(ModelArchive.cacheRoot().endsWith("kiri"), ModelArchive.cacheRoot().toString());
        } finally {
            if (before == null) System.clearProperty("kiri.cache.dir");
            else System.setProperty("kiri.cache.dir", before);
        }
    }
}

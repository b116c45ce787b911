package dev.kiri.runtime.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from a local HTTP server that behaves like the hub (redirect to a CDN, X-Linked-Etag, ranges). */
class HfDownloaderTest {
    @TempDir
    Path cache;
    HttpServer server;
    byte[] content;
    String sha;
    final AtomicInteger gets = new AtomicInteger();
    final List<String> ranges = new CopyOnWriteArrayList<>();
    volatile int cutFirstGetAt = -1; // close the connection after this many bytes, once
    volatile String advertisedSha;

    @BeforeEach
    void start() throws Exception {
        content = new byte[3_000_000];
        new Random(1).nextBytes(content);
        sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        advertisedSha = sha;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/owner/repo/resolve/main/", ex -> {
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + advertisedSha + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(content.length));
            ex.getResponseHeaders().add("Location", "/cdn/blob");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/cdn/blob", this::blob);
        server.start();
    }

    private void blob(HttpExchange ex) throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().add("Content-Length", String.valueOf(content.length));
            ex.sendResponseHeaders(200, -1);
            ex.close();
            return;
        }
        gets.incrementAndGet();
        String range = ex.getRequestHeaders().getFirst("Range");
        int from = 0;
        if (range != null) {
            ranges.add(range);
            from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
            ex.sendResponseHeaders(206, content.length - from);
        } else {
            ex.sendResponseHeaders(200, content.length);
        }
        try (OutputStream out = ex.getResponseBody()) {
            int cut = cutFirstGetAt;
            if (cut > 0) {
                cutFirstGetAt = -1;
                out.write(content, from, cut);
                out.flush();
                throw new IOException("connection dropped on purpose");
            }
            out.write(content, from, content.length - from);
        }
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private HfDownloader downloader() {
        return new HfDownloader(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), cache, null);
    }

    @Test
    void downloadsOnceVerifiesAndThenUsesTheCache() throws Exception {
        long[] last = {0, 0};
        Path p = downloader().resolve("hf://owner/repo/dir/model.gguf", (b, t) -> { last[0] = b; last[1] = t; });
        assertArrayEquals(content, Files.readAllBytes(p));
        assertTrue(p.startsWith(cache));
        assertEquals(content.length, last[0]);
        assertEquals(content.length, last[1]);
        Path again = downloader().resolve("hf://owner/repo/dir/model.gguf", (b, t) -> { });
        assertEquals(p, again);
        assertEquals(1, gets.get(), "the second resolve must not download");
    }

    @Test
    void anInterruptedDownloadResumesWithARangeRequest() throws Exception {
        cutFirstGetAt = 1_000_000;
        assertThrows(IOException.class, () -> downloader().resolve("hf://owner/repo/model.gguf", (b, t) -> { }));
        Path p = downloader().resolve("hf://owner/repo/model.gguf", (b, t) -> { });
        assertArrayEquals(content, Files.readAllBytes(p));
        assertEquals(1, ranges.size(), ranges.toString());
        assertTrue(ranges.get(0).startsWith("bytes="), ranges.toString());
        assertFalse(ranges.get(0).equals("bytes=0-"));
    }

    @Test
    void aDigestMismatchIsAnErrorAndLeavesNothingBehind() throws Exception {
        advertisedSha = "0".repeat(64);
        var e = assertThrows(IOException.class, () -> downloader().resolve("hf://owner/repo/model.gguf", (b, t) -> { }));
        assertTrue(e.getMessage().contains("SHA-256 mismatch"), e.getMessage());
        try (var files = Files.walk(cache)) {
            assertTrue(files.noneMatch(Files::isRegularFile), "no file may remain");
        }
    }

    @Test
    void malformedReferencesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> downloader().resolve("hf://owner/model.gguf", (b, t) -> { }));
        assertThrows(IllegalArgumentException.class, () -> downloader().resolve("hf://owner/repo/../../x.gguf", (b, t) -> { }));
    }
}

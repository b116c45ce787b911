package dev.kiri.runtime.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code hf://OWNER/REPO/PATH/FILE.gguf} (optionally {@code hf://OWNER/REPO@REVISION/...})
 * to a local file, downloading it once from the Hugging Face hub into the cache:
 * <ul>
 *   <li>cache: {@code $KIRI_CACHE/hf/OWNER/REPO/REVISION/PATH} (default {@code ~/.cache/kiri});</li>
 *   <li>resumable: the download goes to {@code FILE.part} and continues with an HTTP range request
 *       after an interruption;</li>
 *   <li>verified: the size must match, and when the hub gives the file's SHA-256 (the
 *       {@code X-Linked-Etag} of large files) the digest must match too; a mismatch deletes the
 *       partial file and is an error;</li>
 *   <li>endpoint {@code $HF_ENDPOINT} (default {@code https://huggingface.co}); {@code $HF_TOKEN}
 *       is sent as a bearer token when set.</li>
 * </ul>
 * Once a verified file is in the cache, no network is used.
 */
public final class HfDownloader {
    /** Receives download progress: bytes so far and the total (-1 when unknown). */
    @FunctionalInterface
    public interface Progress {
        void update(long bytes, long total);
    }

    private static final Pattern REF = Pattern.compile("hf://([^/@]+)/([^/@]+)(?:@([^/]+))?/(.+)");
    private static final Pattern SHA256 = Pattern.compile("\"?([0-9a-fA-F]{64})\"?");

    private final URI endpoint;
    private final Path cacheRoot;
    private final String token;
    private final HttpClient http;

    public HfDownloader(URI endpoint, Path cacheRoot, String token) {
        this.endpoint = endpoint;
        this.cacheRoot = cacheRoot;
        this.token = token;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    /** A downloader configured from the environment ({@code HF_ENDPOINT}, {@code KIRI_CACHE}, {@code HF_TOKEN}). */
    public static HfDownloader fromEnvironment() {
        String ep = System.getenv().getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        String cache = System.getenv("KIRI_CACHE");
        Path root = cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "kiri");
        return new HfDownloader(URI.create(ep.endsWith("/") ? ep.substring(0, ep.length() - 1) : ep), root, System.getenv("HF_TOKEN"));
    }

    public static boolean isHfReference(String s) {
        return s.startsWith("hf://");
    }

    /** The local file for a reference: downloaded and verified first if it is not in the cache. */
    public Path resolve(String reference, Progress progress) throws IOException, InterruptedException {
        Matcher m = REF.matcher(reference);
        if (!m.matches() || m.group(4).contains("..")) {
            throw new IllegalArgumentException("not a model reference: " + reference + " (expected hf://OWNER/REPO/FILE.gguf)");
        }
        String owner = m.group(1);
        String repo = m.group(2);
        String revision = m.group(3) != null ? m.group(3) : "main";
        String file = m.group(4);
        Path target = cacheRoot.resolve("hf").resolve(owner).resolve(repo).resolve(revision).resolve(file).normalize();
        if (!target.startsWith(cacheRoot.resolve("hf").normalize())) throw new IllegalArgumentException("bad path in " + reference);
        Path done = target.resolveSibling(target.getFileName() + ".verified");
        if (Files.exists(target) && Files.exists(done)) return target;

        URI uri = URI.create(endpoint + "/" + owner + "/" + repo + "/resolve/" + revision + "/" + file);
        Head head = head(uri, reference);
        Files.createDirectories(target.getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        download(head, part, progress, reference);
        verify(head, part, reference);
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(done, (head.sha256 != null ? head.sha256 : "size-only") + "\n");
        return target;
    }

    /** Where the bytes are, how many, and their digest when the hub tells. */
    private record Head(URI location, long size, String sha256) {
    }

    private Head head(URI uri, String reference) throws IOException, InterruptedException {
        URI current = uri;
        String sha = null;
        long size = -1;
        for (int hop = 0; hop < 10; hop++) {
            HttpResponse<Void> r = http.send(request(current).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.discarding());
            if (sha == null) sha = digest(r.headers().firstValue("x-linked-etag")).orElse(null);
            if (size < 0) size = r.headers().firstValueAsLong("x-linked-size").orElse(-1);
            int code = r.statusCode();
            if (code / 100 == 3) {
                String loc = r.headers().firstValue("location").orElseThrow(() -> new IOException(reference + ": redirect without a location"));
                current = current.resolve(loc);
                continue;
            }
            if (code == 401 || code == 403) throw new IOException(reference + ": access denied (HTTP " + code + "); set HF_TOKEN for gated or private models");
            if (code == 404) throw new IOException(reference + ": not found (HTTP 404) at " + uri);
            if (code != 200) throw new IOException(reference + ": HTTP " + code + " from " + current);
            if (size < 0) size = r.headers().firstValueAsLong("content-length").orElse(-1);
            if (sha == null) sha = digest(r.headers().firstValue("etag")).orElse(null);
            return new Head(current, size, sha);
        }
        throw new IOException(reference + ": too many redirects");
    }

    private static Optional<String> digest(Optional<String> etag) {
        return etag.map(e -> e.startsWith("W/") ? e.substring(2) : e).map(SHA256::matcher).filter(Matcher::matches)
                .map(mm -> mm.group(1).toLowerCase(Locale.ROOT));
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5)).header("User-Agent", "kiri");
        if (token != null && !token.isBlank() && uri.getHost() != null && uri.getHost().equals(endpoint.getHost())) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private void download(Head head, Path part, Progress progress, String reference) throws IOException, InterruptedException {
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (head.size >= 0 && have > head.size) {
            Files.delete(part);
            have = 0;
        }
        if (head.size >= 0 && have == head.size) return;
        HttpRequest.Builder b = request(head.location).GET();
        if (have > 0) b.header("Range", "bytes=" + have + "-");
        HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        int code = r.statusCode();
        boolean append = code == 206;
        if (code != 200 && code != 206) {
            r.body().close();
            throw new IOException(reference + ": HTTP " + code + " while downloading " + head.location);
        }
        if (!append) have = 0;
        long total = head.size;
        try (InputStream in = r.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] buf = new byte[1 << 20];
            long shown = 0;
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                have += n;
                if (have - shown >= (1 << 22) || have == total) {
                    shown = have;
                    progress.update(have, total);
                }
            }
        }
        progress.update(have, total);
    }

    private static void verify(Head head, Path part, String reference) throws IOException {
        long size = Files.size(part);
        if (head.size >= 0 && size != head.size) {
            throw new IOException(reference + ": download incomplete, " + size + " of " + head.size
                    + " bytes (run again to resume)");
        }
        if (head.sha256 == null) return;
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        String got = HexFormat.of().formatHex(md.digest());
        if (!got.equals(head.sha256)) {
            Files.delete(part);
            throw new IOException(reference + ": SHA-256 mismatch: expected " + head.sha256 + ", got " + got
                    + "; the partial file was deleted");
        }
    }
}

package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed PTX is what nvcc makes of the committed sources, so the two cannot drift. Runs
 * where nvcc of the release that wrote the PTX is installed ({@code -Dkiri.nvcc=PATH} or
 * {@code nvcc} on the PATH or in the usual places); skipped, saying so, elsewhere.
 */
class PtxUpToDateTest {
    private static final Pattern RELEASE = Pattern.compile("release (\\d+\\.\\d+), V([\\d.]+)");
    private static final Pattern INTERNAL = Pattern.compile("_INTERNAL_[0-9a-f]{8}_");

    @Test
    void regeneratingThePtxGivesTheCommittedFiles(@TempDir Path tmp) throws Exception {
        Path sources = sources();
        Path nvcc = nvcc();
        String skip = null;
        if (sources == null) skip = "CUDA sources (kernels/src/main/cuda) not found from " + Path.of("").toAbsolutePath();
        else if (nvcc == null) skip = "nvcc not found (set -Dkiri.nvcc=PATH); the PTX was not checked against its sources";
        String committedRelease = null;
        String release = null;
        if (skip == null) {
            committedRelease = release(PtxResourcesTest.ptx(CudaKernels.MODULES.getFirst()));
            release = release(run(List.of(nvcc.toString(), "--version"), tmp));
            if (!committedRelease.equals(release)) {
                skip = "nvcc " + release + " differs from " + committedRelease + " that wrote the committed PTX";
            }
        }
        if (skip != null) {
            System.out.println("[cuda] skipped: " + skip);
            Assumptions.abort(skip);
        }
        List<String> cu = new ArrayList<>();
        try (Stream<Path> s = Files.list(sources)) {
            s.filter(p -> p.toString().endsWith(".cu")).forEach(p -> cu.add(p.getFileName().toString()));
        }
        cu.sort(null);
        List<String> expected = new ArrayList<>(CudaKernels.MODULES);
        expected.sort(null);
        assertEquals(expected, cu.stream().map(n -> n.substring(0, n.length() - 3)).toList(), "one module per .cu file");
        // scripts/build-ptx.sh itself, with this nvcc: what it writes must be what is committed
        Path script = sources.getParent().getParent().getParent().getParent().resolve("scripts/build-ptx.sh");
        assertTrue(Files.isRegularFile(script), "no " + script);
        Path out = tmp.resolve("ptx");
        ProcessBuilder pb = new ProcessBuilder("sh", script.toString(), out.toString()).redirectErrorStream(true);
        pb.environment().put("NVCC", nvcc.toString());
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(600, TimeUnit.SECONDS), "scripts/build-ptx.sh timed out");
        assertEquals(0, p.exitValue(), "scripts/build-ptx.sh failed:\n" + log);
        for (String name : CudaKernels.MODULES) {
            assertEquals(samePath(PtxResourcesTest.ptx(name)), samePath(Files.readString(out.resolve(name + ".ptx"), StandardCharsets.US_ASCII)),
                    name + ".ptx differs from what scripts/build-ptx.sh makes of " + name + ".cu: run it and commit");
        }
    }

    /**
     * nvcc names symbols of internal linkage (static functions' local variables, for instance)
     * {@code _INTERNAL_<8 hex digits>_...}, the digits a hash of the source's absolute path: the
     * same source compiled in another checkout differs there and nowhere else.
     */
    static String samePath(String ptx) {
        return INTERNAL.matcher(ptx).replaceAll("_INTERNAL_(path)_");
    }

    private static String release(String text) {
        Matcher m = RELEASE.matcher(text);
        return m.find() ? m.group(1) + " (V" + m.group(2) + ")" : "unknown";
    }

    private static String run(List<String> cmd, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    private static Path sources() {
        for (String c : new String[] {"src/main/cuda", "kernels/src/main/cuda"}) {
            Path p = Path.of(c);
            if (Files.isDirectory(p)) return p.toAbsolutePath();
        }
        return null;
    }

    private static Path nvcc() {
        String prop = System.getProperty("kiri.nvcc");
        if (prop != null) return Files.isExecutable(Path.of(prop)) ? Path.of(prop) : null;
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) for (String d : path.split(File.pathSeparator)) candidates.add(Path.of(d, "nvcc"));
        candidates.add(Path.of("/usr/local/cuda/bin/nvcc"));
        candidates.add(Path.of("/usr/local/bin/nvcc"));
        for (Path c : candidates) if (Files.isExecutable(c)) return c;
        return null;
    }
}

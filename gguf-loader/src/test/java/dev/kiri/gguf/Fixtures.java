package dev.kiri.gguf;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates {@code ../shared/fixtures} (or the directory named by the {@code kiri.fixtures} system
 * property, which the build sets). A missing folder is a test failure with a message, never a skip.
 * Shared with the other modules' tests through the gguf-loader test jar.
 */
public final class Fixtures {
    private Fixtures() {
    }

    /** The fixtures root; fails the calling test with a clear message when it is missing. */
    public static Path root() {
        String prop = System.getProperty("kiri.fixtures");
        Path p = prop != null ? Path.of(prop) : findUpwards();
        if (p == null || !Files.isDirectory(p)) {
            throw new AssertionError("fixture folder not found: expected ../shared/fixtures beside the repository"
                    + (prop != null ? " (kiri.fixtures=" + prop + ")" : "")
                    + ". Fixture tests need it; see README.md.");
        }
        return p.toAbsolutePath().normalize();
    }

    /** A file under the fixtures root; fails clearly when it is missing. */
    public static Path file(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) throw new AssertionError("fixture file missing: " + p);
        return p;
    }

    private static Path findUpwards() {
        Path dir = Path.of("").toAbsolutePath();
        for (int i = 0; i < 4 && dir != null; i++, dir = dir.getParent()) {
            Path candidate = dir.resolve("../shared/fixtures").normalize();
            if (Files.isDirectory(candidate)) return candidate;
        }
        return null;
    }
}

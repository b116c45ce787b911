package dev.kiri.runtime.cli;

import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Model;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** Option values shared by the commands that load a model. */
final class Options {
    private Options() {
    }

    static LoadOptions.KvCacheType kvType(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f16" -> LoadOptions.KvCacheType.F16;
            case "f32" -> LoadOptions.KvCacheType.F32;
            default -> throw new IllegalArgumentException("--kv must be f16 or f32, not '" + s + "'");
        };
    }

    /** The local file of a model argument: hf:// references are downloaded with a progress line on {@code err}. */
    static Path resolveModel(String model, PrintWriter err) throws IOException {
        long[] shown = {-1};
        Path p = Model.resolve(model, (bytes, total) -> {
            long mb = bytes / 1_000_000;
            if (mb / 10 != shown[0] / 10 || bytes == total) {
                shown[0] = mb;
                if (total > 0) err.printf(Locale.ROOT, "\rdownloading %s: %,d / %,d MB (%.0f%%)", model, mb, total / 1_000_000, 100.0 * bytes / total);
                else err.printf(Locale.ROOT, "\rdownloading %s: %,d MB", model, mb);
                err.flush();
            }
        });
        if (shown[0] >= 0) {
            err.println();
            err.flush();
        }
        return p;
    }
}

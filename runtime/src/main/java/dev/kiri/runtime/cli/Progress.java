package dev.kiri.runtime.cli;

import dev.kiri.runtime.GenerationResult;
import dev.kiri.runtime.LoadOptions;
import dev.kiri.runtime.Model;
import dev.kiri.runtime.TokenListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** What the generating commands print on stderr: load, prompt progress, timings. */
final class Progress {
    private Progress() {
    }

    static Model load(Path path, LoadOptions options, PrintWriter err) throws IOException {
        err.printf(Locale.ROOT, "kiri: loading %s%n", path);
        err.flush();
        Model m = Model.load(path, options);
        err.printf(Locale.ROOT, "kiri: loaded in %d ms: %s%n", m.loadMillis(), RunCommand.describe(m));
        err.flush();
        return m;
    }

    /** Streams the text to {@code out}; shows prompt progress on {@code err} when the prompt takes several batches. */
    static TokenListener streaming(PrintWriter out, PrintWriter err) {
        return new TokenListener() {
            boolean progressShown;

            @Override
            public void onToken(String text, int tokenId) {
                if (progressShown) {
                    err.println();
                    err.flush();
                    progressShown = false;
                }
                if (!text.isEmpty()) {
                    out.print(text);
                    out.flush();
                }
            }

            @Override
            public void onPromptProgress(int evaluated, int total) {
                if (total <= 256) return;
                err.printf(Locale.ROOT, "\rkiri: prompt %d / %d tokens", evaluated, total);
                err.flush();
                progressShown = true;
            }
        };
    }

    static void report(PrintWriter err, Model m, GenerationResult r) {
        var t = r.timings();
        // Generated tokens, and the single-token passes the decode ran (the first token comes from the prompt).
        err.printf(Locale.ROOT, "kiri: %s; load %d ms, prompt %d tokens at %.2f tok/s, %d tokens generated, decode %d tokens at %.2f tok/s, seed %d%n",
                r.finishReason().name().toLowerCase(Locale.ROOT), t.loadMillis(), t.promptTokens(), t.promptTokensPerSecond(),
                r.tokens().length, t.decodeTokens(), t.decodeTokensPerSecond(), r.seed());
        err.flush();
    }
}

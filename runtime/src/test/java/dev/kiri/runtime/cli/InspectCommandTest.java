package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path dir;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void printsVersionMetadataAndTensorTableWithTotals() {
        CliRun r = run("inspect", Fixtures.file("models/tiny-llama-Q4_0.gguf").toString());
        assertEquals(0, r.status(), r.err());
        String o = r.out();
        assertTrue(o.contains("GGUF v3, alignment 32, 829,184 bytes in 1 file"), o);
        assertTrue(o.matches("(?s).*general\\.architecture\\s+STRING\\s+\"llama\".*"), o);
        assertTrue(o.matches("(?s).*llama\\.embedding_length\\s+UINT32\\s+256\\n.*"), o);
        // the 512-token vocabulary is abbreviated after 8 items
        assertTrue(o.matches("(?s).*tokenizer\\.ggml\\.tokens\\s+STRING\\[512\\]\\s+\\[\"<unk>\", \"<s>\", \"</s>\", .*\\.\\.\\. 504 more\\].*"), o);
        assertTrue(o.matches("(?s).*blk\\.0\\.attn_k\\.weight\\s+Q4_0\\s+\\[256, 128\\]\\s+18,432\\n.*"), o);
        assertTrue(o.contains("tensors    21"), o);
        assertTrue(o.matches("(?s).*\\n  total\\s+[\\d,]+ elements\\s+[\\d,]+\\n.*"), o);
        assertTrue(o.matches("(?s).*\\n  Q4_0\\s+16 tensors.*"), o);
        assertEquals("", r.err());
    }

    @Test
    void badFilePrintsTheErrorAndExitsWithStatusOne() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, "not a gguf file at all".getBytes(StandardCharsets.UTF_8));
        CliRun r = run("inspect", bad.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("bad magic"), r.err());
        assertTrue(r.err().contains(bad.toString()), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace without --verbose: " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[3]);
        CliRun r = run("inspect", "--verbose", bad.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope.gguf");
        CliRun r = run("inspect", missing.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no such file: " + missing), r.err());
    }
}

package dev.kiri.runtime.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.kiri.gguf.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {
    }

    private static Result run(String stdin, String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            if (stdin != null) System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            int status = Main.run(args);
            return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.setIn(oldIn);
        }
    }

    private static String tiny() {
        return Fixtures.file("models/tiny-llama-F32.gguf").toString();
    }

    private static String spm() {
        return Fixtures.file("vocab/ggml-vocab-llama-spm.gguf").toString();
    }

    @Test
    void printsIdsOnOneLineWithBos() {
        Result r = run(null, "tokenize", "-m", spm(), "Hello world");
        assertEquals(0, r.status(), r.err());
        assertEquals("1 15043 3186\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void noBosAndSpecialParsing() {
        assertEquals("15043 3186\n", run(null, "tokenize", "-m", spm(), "--no-bos", "Hello world").out());
        String plain = run(null, "tokenize", "-m", spm(), "--no-bos", "</s>").out();
        assertTrue(!plain.trim().equals("2"), plain);
        assertEquals("2\n", run(null, "tokenize", "-m", spm(), "--no-bos", "--special", "</s>").out());
    }

    @Test
    void piecesShowsOneTokenPerLine() {
        Result r = run(null, "tokenize", "-m", spm(), "--pieces", "Hello\n");
        assertEquals(0, r.status(), r.err());
        assertEquals("1\t'<s>'\n15043\t'▁Hello'\n13\t'<0x0A>'\n", r.out());
    }

    @Test
    void dashReadsStdin() {
        Result r = run("日本", "tokenize", "-m", tiny(), "--no-bos", "-");
        assertEquals(0, r.status(), r.err());
        Result direct = run(null, "tokenize", "-m", tiny(), "--no-bos", "日本");
        assertEquals(direct.out(), r.out());
        assertTrue(r.out().split(" ").length >= 6, "byte fallback for two kanji: " + r.out());
    }

    @Test
    void inpFileGivesTheOutFileByteForByte() throws Exception {
        Path inp = Fixtures.file("vocab/tiny/tiny-llama-F32.gguf.cjk.inp");
        Path out = Fixtures.file("vocab/tiny/tiny-llama-F32.gguf.cjk.out");
        Result r = run(null, "tokenize", "-m", tiny(), "--inp", inp.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(Files.readString(out, StandardCharsets.UTF_8), r.out());

        Path spmInp = Fixtures.file("vocab/ggml-vocab-phi-3.gguf.inp");
        r = run(null, "tokenize", "-m", Fixtures.file("vocab/ggml-vocab-phi-3.gguf").toString(), "--inp", spmInp.toString());
        assertEquals(Files.readString(Fixtures.file("vocab/ggml-vocab-phi-3.gguf.out"), StandardCharsets.UTF_8), r.out());
    }

    @Test
    void malformedInpFileIsAnError() throws Exception {
        Path bad = dir.resolve("bad.inp");
        Files.writeString(bad, "no separator at the end");
        Result r = run(null, "tokenize", "-m", tiny(), "--inp", bad.toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("bad.inp") && r.err().contains("__ggml_vocab_test__"), r.err());
    }

    @Test
    void detokenizePrintsTheText() {
        Result r = run(null, "detokenize", "-m", spm(), "1", "15043", "3186");
        assertEquals(0, r.status(), r.err());
        // BOS prints nothing without --special; the first piece after it keeps its space, as in llama.cpp
        assertEquals(" Hello world\n", r.out());
        assertEquals("Hello world\n", run(null, "detokenize", "-m", spm(), "15043", "3186").out());
        assertEquals("<s> Hello world", run(null, "detokenize", "-m", spm(), "--special", "-n", "1", "15043", "3186").out());
    }

    @Test
    void badIdAndMissingFileAreErrors() {
        Result r = run(null, "detokenize", "-m", spm(), "99999");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("99999") && r.err().contains("ggml-vocab-llama-spm.gguf"), r.err());
        Path missing = dir.resolve("nope.gguf");
        r = run(null, "tokenize", "-m", missing.toString(), "x");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no such file: " + missing), r.err());
    }

    @Test
    void modelWithoutTokenizerIsAnError() throws Exception {
        Path f = dir.resolve("empty.gguf");
        try (var w = new java.io.FileOutputStream(f.toFile())) {
            // a valid GGUF v3 header with no metadata and no tensors
            var b = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.putInt(0x46554747).putInt(3).putLong(0).putLong(0);
            w.write(b.array());
        }
        Result r = run(null, "tokenize", "-m", f.toString(), "x");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("tokenizer.ggml.model"), r.err());
    }
}

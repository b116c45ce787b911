package dev.kiri.gguf;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation ("fuzz") test: thousands of corrupted variants of a small valid file either open
 * (and can then be read completely) or fail with a {@link GgufFormatException}; never another
 * exception, an OutOfMemoryError or a hang. The seed is random per run and printed on failure;
 * rerun with {@code -Dkiri.mutation.seed=N} to reproduce.
 */
class GgufMutationTest {
    private static final int CASES = Integer.getInteger("kiri.mutation.cases", 8000);

    @TempDir
    Path dir;

    @Test
    void everyCorruptedFileOpensCleanlyOrFailsWithAFormatException() throws IOException {
        long seed = Long.getLong("kiri.mutation.seed", new Random().nextLong());
        byte[] base = baseFile();
        Path p = dir.resolve("mutant.gguf");
        int[] outcome = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < CASES; i++) {
                Random r = new Random(seed + i);
                StringBuilder what = new StringBuilder();
                byte[] mutant = base;
                int rounds = 1 + r.nextInt(3);
                for (int k = 0; k < rounds; k++) mutant = mutate(mutant, r, what);
                Files.write(p, mutant);
                try (GgufFile f = GgufFile.open(p)) {
                    readEverything(f);
                    outcome[0]++;
                } catch (GgufFormatException expected) {
                    outcome[1]++;
                } catch (Throwable t) {
                    throw new AssertionError("mutation seed " + seed + " case " + i + " (" + what + "): "
                            + t.getClass().getName() + ": " + t.getMessage()
                            + " -- rerun with -Dkiri.mutation.seed=" + seed, t);
                }
            }
        }, () -> "mutation test did not finish in time, seed " + seed);
        // Both outcomes must occur, or the mutations are not testing anything.
        assertTrue(outcome[0] > CASES / 50 && outcome[1] > CASES / 4,
                "opened " + outcome[0] + ", rejected " + outcome[1] + " (seed " + seed + ")");
    }

    /** Touches every value and every tensor byte of an opened file, dequantizing what can be. */
    private static void readEverything(GgufFile f) {
        for (var e : f.metadata().asMap().entrySet()) {
            if (e.getValue().value() instanceof GgufArray a) a.length();
        }
        for (GgufTensor t : f.tensors()) {
            long n = t.data().byteSize();
            if (n > 0) {
                t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0);
                t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, n - 1);
            }
            if (Dequant.supports(t.type()) && t.elementCount() <= 1 << 16) Dequant.tensor(t);
        }
    }

    /** A small valid file with every kind of header field: strings, numbers, arrays, nested arrays, 3 tensors. */
    static byte[] baseFile() throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putString("general.name", "変異テスト");
        w.putUInt32("llama.block_count", 2);
        w.putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putArray("tokenizer.ggml.tokens", new GgufArray(GgufValueType.STRING, new String[]{"<unk>", "<s>", "</s>", "▁the", "한"}));
        w.putArray("tokenizer.ggml.scores", new GgufArray(GgufValueType.FLOAT32, new float[]{0, 0, 0, -1, -2}));
        w.putArray("tokenizer.ggml.token_type", new GgufArray(GgufValueType.INT32, new int[]{2, 3, 3, 1, 1}));
        w.putArray("nested", new GgufArray(GgufValueType.ARRAY, new GgufArray[]{
                new GgufArray(GgufValueType.UINT16, new short[]{1, 2}),
                new GgufArray(GgufValueType.STRING, new String[]{"x"})}));
        w.put("general.file_type", new GgufValue(GgufValueType.UINT64, 7L));
        Random r = new Random(1);
        float[] a = new float[64];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        w.addTensor("output_norm.weight", GgmlType.F32, new long[]{8}, Arrays.copyOf(a, 8));
        w.addTensor("blk.0.attn_q.weight", GgmlType.Q4_0, new long[]{32, 2}, a);
        w.addTensor("blk.0.attn_k.weight", GgmlType.Q8_0, new long[]{32, 2}, a);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        w.writeTo(out);
        return out.toByteArray();
    }

    private static final long[] INTERESTING = {0, 1, 2, 3, 4, 8, 31, 32, 33, 63, 64, 255, 256, 0x7F, 0x80, 0xFF, 0xFFFF,
            0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL, 1L << 32, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE, -1L, -2L};

    private static byte[] mutate(byte[] in, Random r, StringBuilder what) {
        int len = in.length;
        int at = len == 0 ? 0 : r.nextInt(len);
        switch (r.nextInt(7)) {
            case 0 -> {
                if (len == 0) return in;
                byte[] b = in.clone();
                int bit = r.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                what.append("flip bit ").append(bit).append(" at ").append(at).append("; ");
                return b;
            }
            case 1 -> {
                if (len == 0) return in;
                byte[] b = in.clone();
                b[at] = (byte) r.nextInt(256);
                what.append("set byte at ").append(at).append("; ");
                return b;
            }
            case 2 -> {
                int width = r.nextBoolean() ? 4 : 8;
                if (len < width) return in;
                byte[] b = in.clone();
                int pos = r.nextInt(len - width + 1);
                long v = INTERESTING[r.nextInt(INTERESTING.length)];
                for (int i = 0; i < width; i++) b[pos + i] = (byte) (v >>> (8 * i));
                what.append("write ").append(v).append(" as ").append(width).append(" bytes at ").append(pos).append("; ");
                return b;
            }
            case 3 -> {
                int n = 1 + r.nextInt(16);
                byte[] ins = new byte[n];
                r.nextBytes(ins);
                byte[] b = new byte[len + n];
                System.arraycopy(in, 0, b, 0, at);
                System.arraycopy(ins, 0, b, at, n);
                System.arraycopy(in, at, b, at + n, len - at);
                what.append("insert ").append(n).append(" bytes at ").append(at).append("; ");
                return b;
            }
            case 4 -> {
                int n = Math.min(len - at, 1 + r.nextInt(16));
                byte[] b = new byte[len - n];
                System.arraycopy(in, 0, b, 0, at);
                System.arraycopy(in, at + n, b, at, len - at - n);
                what.append("delete ").append(n).append(" bytes at ").append(at).append("; ");
                return b;
            }
            case 5 -> {
                what.append("truncate to ").append(at).append("; ");
                return Arrays.copyOf(in, at);
            }
            default -> {
                if (len < 2) return in;
                int from = r.nextInt(len);
                int n = Math.min(Math.min(len - from, len - at), 1 + r.nextInt(32));
                byte[] b = in.clone();
                System.arraycopy(in, from, b, at, n);
                what.append("copy ").append(n).append(" bytes from ").append(from).append(" to ").append(at).append("; ");
                return b;
            }
        }
    }
}

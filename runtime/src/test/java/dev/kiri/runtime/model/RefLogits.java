package dev.kiri.runtime.model;

import dev.kiri.gguf.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reference logits from {@code refs/}: raw float32 little-endian {@code [16][512]}, and sidecar values. */
final class RefLogits {
    /** The token sequence every reference was computed on. */
    static final int[] TOKENS = {1, 17, 42, 99, 256, 300, 7, 511, 64, 128, 3, 200, 401, 77, 5, 450};
    static final int VOCAB = 512;

    private RefLogits() {
    }

    static float[] read(String refsFile) throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.file("refs/" + refsFile));
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        if (out.length != TOKENS.length * VOCAB) throw new AssertionError(refsFile + ": " + out.length + " floats, expected 16 x 512");
        return out;
    }

    static String sidecar(String stem) throws IOException {
        return Files.readString(Fixtures.file("refs/" + stem + ".json"));
    }

    /** The integer array of a JSON key (flat, one level), e.g. "tokens" or "greedy_16". */
    static int[] intArray(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new AssertionError("sidecar has no " + key);
        return Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
    }

    static double[] doubleArray(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new AssertionError("sidecar has no " + key);
        return Arrays.stream(m.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToDouble(Double::parseDouble).toArray();
    }

    static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*([-+0-9.eE]+)").matcher(json);
        if (!m.find()) throw new AssertionError("sidecar has no number " + key);
        return Double.parseDouble(m.group(1));
    }

    static Path model(String file) {
        return Fixtures.file("models/" + file);
    }

    /** Largest absolute difference, and where. */
    record Diff(double max, int position, int token, int positionsOver1em4) {
        @Override
        public String toString() {
            return String.format("max |diff| %.3g at position %d, token %d; %d positions over 1e-4", max, position, token,
                    positionsOver1em4);
        }
    }

    static Diff diff(float[] actual, float[] expected) {
        double max = -1;
        int at = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (!(d <= max)) { // NaN counts as worst
                max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                at = i;
            }
        }
        int over = 0;
        for (int p = 0; p < expected.length / VOCAB; p++) {
            for (int i = 0; i < VOCAB; i++) {
                if (!(Math.abs((double) actual[p * VOCAB + i] - expected[p * VOCAB + i]) <= 1e-4)) {
                    over++;
                    break;
                }
            }
        }
        return new Diff(max, at / VOCAB, at % VOCAB, over);
    }

    static int argmaxAgreement(float[] a, float[] b) {
        int agree = 0;
        for (int p = 0; p < a.length / VOCAB; p++) if (argmax(a, p) == argmax(b, p)) agree++;
        return agree;
    }

    static int argmax(float[] x, int position) {
        int best = 0;
        for (int i = 1; i < VOCAB; i++) if (x[position * VOCAB + i] > x[position * VOCAB + best]) best = i;
        return best;
    }
}

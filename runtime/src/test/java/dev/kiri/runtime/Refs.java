package dev.kiri.runtime;

import dev.kiri.gguf.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;

/** Reference logits from the fixtures' {@code refs/}: raw float32 little-endian {@code [16][512]}. */
final class Refs {
    /** The token sequence every reference was computed on. */
    static final int[] TOKENS = {1, 17, 42, 99, 256, 300, 7, 511, 64, 128, 3, 200, 401, 77, 5, 450};

    private Refs() {
    }

    static float[] logits(String refsFile) throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.file("refs/" + refsFile));
        float[] out = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }
}

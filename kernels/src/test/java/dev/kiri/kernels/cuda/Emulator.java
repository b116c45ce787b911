package dev.kiri.kernels.cuda;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the CUDA kernels on the CPU through {@code kernels/src/test/cuda-host/emulation.cpp}
 * (the {@code .cu} sources compiled by g++ with the CUDA built-ins emulated by threads and
 * barriers): buffers and launches are described here, sent to the emulator, and the buffers'
 * final contents read back. Compiled once per test run; where g++ (C++20) or the sources are
 * missing, {@link #unavailable()} says why.
 */
final class Emulator {
    /** A kernel pointer argument: buffer {@code id} at {@code byteOffset}; id -1 is a null pointer. */
    record Ref(int id, long byteOffset) {
    }

    static final Ref NULL = new Ref(-1, 0);

    private static Path binary;
    private static String unavailable;

    private final List<byte[]> buffers = new ArrayList<>();
    private final ByteArrayOutputStream launches = new ByteArrayOutputStream();
    private int launchCount;

    /** Null when the emulator can run here, else why not. */
    static synchronized String unavailable() {
        if (binary == null && unavailable == null) build();
        return unavailable;
    }

    private static void build() {
        Path root = null;
        for (String c : new String[] {"src", "kernels/src"}) {
            if (Files.isRegularFile(Path.of(c, "test/cuda-host/emulation.cpp"))) root = Path.of(c).toAbsolutePath();
        }
        if (root == null) {
            unavailable = "emulation sources (kernels/src/test/cuda-host) not found from " + Path.of("").toAbsolutePath();
            return;
        }
        try {
            Path dir = Files.createTempDirectory("kiri-emulation");
            Path out = dir.resolve("kiri-emulation");
            Process p = new ProcessBuilder("g++", "-std=c++20", "-O1", "-pthread", "-I", root.resolve("main/cuda").toString(),
                    "-o", out.toString(), root.resolve("test/cuda-host/emulation.cpp").toString())
                    .redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                unavailable = "g++ took over 300 s to compile the emulation";
            } else if (p.exitValue() != 0) {
                // A compiler that cannot build it is a reason to skip; the sources are checked by nvcc elsewhere.
                unavailable = "g++ could not compile the emulation (C++20 with <barrier> needed):\n" + log;
            } else {
                binary = out;
            }
        } catch (IOException e) {
            unavailable = "no g++ to compile the emulation: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            unavailable = "interrupted while compiling the emulation";
        }
    }

    int buffer(byte[] bytes) {
        buffers.add(bytes.clone());
        return buffers.size() - 1;
    }

    int buffer(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return buffer(b.array());
    }

    int buffer(int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) b.putInt(v);
        return buffer(b.array());
    }

    int zeros(long bytes) {
        return buffer(new byte[Math.toIntExact(bytes)]);
    }

    static Ref at(int id) {
        return new Ref(id, 0);
    }

    /** Queues a launch; arguments are {@link Ref}s, Integers, Longs and Floats in the kernel's order. */
    void launch(String kernel, int gridX, int gridY, int blockX, Object... args) {
        ByteBuffer b = ByteBuffer.allocate(64 + kernel.length() + 16 * args.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(kernel.length()).put(kernel.getBytes(StandardCharsets.US_ASCII));
        b.putInt(gridX).putInt(gridY).putInt(blockX).putInt(args.length);
        for (Object a : args) {
            switch (a) {
                case Ref r -> b.putInt(0).putInt(r.id()).putLong(r.byteOffset());
                case Integer i -> b.putInt(1).putInt(i);
                case Long l -> b.putInt(2).putLong(l);
                case Float f -> b.putInt(3).putFloat(f);
                default -> throw new IllegalArgumentException("kernel argument " + a);
            }
        }
        launches.write(b.array(), 0, b.position());
        launchCount++;
    }

    /** Runs every queued launch in order and replaces the buffers with their final contents. */
    void run() throws IOException, InterruptedException {
        if (unavailable() != null) throw new IllegalStateException(unavailable());
        Process p = new ProcessBuilder(binary.toString()).redirectError(ProcessBuilder.Redirect.PIPE).start();
        Thread writer = Thread.ofVirtual().start(() -> {
            try (OutputStream out = p.getOutputStream()) {
                ByteBuffer h = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                out.write(h.putInt(buffers.size()).array(), 0, 4);
                for (byte[] b : buffers) {
                    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(b.length).array());
                    out.write(b);
                }
                out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(launchCount).array());
                launches.writeTo(out);
            } catch (IOException e) {
                // the emulator died early; its exit status and error output say why
            }
        });
        List<byte[]> results = new ArrayList<>();
        try (InputStream in = p.getInputStream(); DataInputStream d = new DataInputStream(in)) {
            for (byte[] b : buffers) {
                byte[] r = new byte[b.length];
                try {
                    d.readFully(r);
                } catch (IOException e) {
                    break;
                }
                results.add(r);
            }
        }
        writer.join();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("emulator did not finish");
        }
        if (p.exitValue() != 0 || results.size() != buffers.size()) {
            throw new IllegalStateException("emulator failed with status " + p.exitValue() + ": " + err);
        }
        for (int i = 0; i < results.size(); i++) buffers.set(i, results.get(i));
        launches.reset();
        launchCount = 0;
    }

    float[] floats(int id) {
        ByteBuffer b = ByteBuffer.wrap(buffers.get(id)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        for (int i = 0; i < f.length; i++) f[i] = b.getFloat();
        return f;
    }
}

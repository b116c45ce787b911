package dev.kiri.kernels.matmul;

import dev.kiri.gguf.GgmlType;
import dev.kiri.kernels.ThreadPool;
import dev.kiri.kernels.Weights;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Steady-state allocation of the matrix products. Surefire runs this class in a JVM of its own
 * (kernels/pom.xml, execution {@code allocation-own-jvm}): what C2 compiles, and so whether a
 * Vector API operation is left unintrinsified and allocates, depends on every call the JVM has
 * seen, and the other tests' calls (odd shapes, extreme values) made it vary from run to run.
 * docs/KERNELS.md ("Steady-state allocation in decode") says what is known of that variation.
 */
class VectorMatmulAllocationTest {
    static final List<GgmlType> TYPES = MatmulTestData.TYPES;

    /**
     * All types in turn on one instance, as a model mixing weight types calls them, in a fresh JVM
     * (this test's flags): passes if one of three such JVMs allocates nothing at steady state. What
     * C2 compiles varies from JVM to JVM; the cause found for kernels that allocated for good in some
     * JVMs (species looked up at run time, docs/KERNELS.md "Steady-state allocation in decode") is
     * removed and guarded by {@code ImplicitSpeciesTest}, but no rate could be measured to show that
     * nothing else remains, so a kernel must allocate in every JVM to fail here.
     */
    @Test
    void warmCallsAllocateNothing() throws Exception {
        java.util.List<String> failures = new java.util.ArrayList<>();
        for (int attempt = 1; attempt <= 3; attempt++) {
            String failure = inFreshJvm();
            if (failure == null) {
                if (!failures.isEmpty()) {
                    System.out.println("[allocation] clean in fresh JVM " + attempt + "; before it: " + failures);
                }
                return;
            }
            failures.add(failure);
        }
        throw new AssertionError("every one of 3 fresh JVMs allocated at steady state:\n" + String.join("\n", failures));
    }

    /** Runs {@link #main} in a new JVM with this one's flags and class path: null if it exits 0, else its output. */
    private static String inFreshJvm() throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(VectorMatmulAllocationTest.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + new String(out, java.nio.charset.StandardCharsets.UTF_8).strip();
    }

    /** The check itself: exits 0 when warm calls allocate nothing, else prints the bytes per type and exits 1. */
    public static void main(String[] args) {
        String failure = check();
        if (failure != null) {
            System.out.println(failure);
            System.exit(1);
        }
        System.exit(0);
    }

    /**
     * The most sampled allocation sites of {@code calls} (JFR allocation samples, counted: their
     * weights are not comparable): class, innermost Kiri frame, innermost frame.
     */
    private static String sites(Runnable calls) {
        try {
            java.nio.file.Path file = java.nio.file.Files.createTempFile("kiri-kernel-allocation", ".jfr");
            try (jdk.jfr.Recording r = new jdk.jfr.Recording()) {
                r.enable("jdk.ObjectAllocationSample").with("throttle", "100000/s").withStackTrace();
                r.start();
                calls.run();
                r.stop();
                r.dump(file);
                java.util.Map<String, Long> samples = new java.util.HashMap<>();
                for (jdk.jfr.consumer.RecordedEvent e : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
                    if (e.getStackTrace() == null || e.getStackTrace().getFrames().isEmpty()) continue;
                    List<jdk.jfr.consumer.RecordedFrame> frames = e.getStackTrace().getFrames();
                    String ours = frames.stream().filter(f -> f.getMethod().getType().getName().startsWith("dev.kiri."))
                            .findFirst().map(VectorMatmulAllocationTest::frame).orElse("-");
                    samples.merge(e.getClass("objectClass").getName() + " in " + ours + " (innermost " + frame(frames.get(0)) + ")",
                            1L, Long::sum);
                }
                StringBuilder out = new StringBuilder();
                samples.entrySet().stream().sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                        .forEach(en -> out.append("    ").append(en.getValue()).append(" samples: ").append(en.getKey()).append('\n'));
                return out.length() == 0 ? "    (no samples)" : out.toString().stripTrailing();
            } finally {
                java.nio.file.Files.deleteIfExists(file);
            }
        } catch (java.io.IOException e) {
            return "    (no samples: " + e + ")";
        }
    }

    private static String frame(jdk.jfr.consumer.RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }

    private static String check() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(9);
        int count = TYPES.size();
        Weights[] ws = new Weights[count + 8];
        try (Arena arena = Arena.ofShared(); ThreadPool pool3 = new ThreadPool(3); VectorMatmul v = new VectorMatmul(pool3)) {
            for (int k = 0; k < count; k++) {
                GgmlType t = TYPES.get(k);
                ws[k] = MatmulTestData.randomWeights(t, 64, 2 * Math.max(t.blockSize(), 128), rnd, arena);
            }
            // And Q4_0, Q4_K, Q6_K, Q5_K, Q2_K, Q3_K, Q8_0 and Q5_0 with their copies (Interleave), whose products take kernels
            // of their own (Q5_0's copy Q8_0's).
            ws[count] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q4_0, 64, 256, rnd, arena), arena);
            ws[count + 1] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q4_K, 64, 512, rnd, arena), arena);
            ws[count + 2] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q6_K, 64, 512, rnd, arena), arena);
            ws[count + 3] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q5_K, 64, 512, rnd, arena), arena);
            ws[count + 4] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q2_K, 64, 512, rnd, arena), arena);
            ws[count + 5] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q3_K, 64, 512, rnd, arena), arena);
            ws[count + 6] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q8_0, 64, 256, rnd, arena), arena);
            ws[count + 7] = Interleave.interleave(MatmulTestData.randomWeights(GgmlType.Q5_0, 64, 256, rnd, arena), arena);
            int gemmBatch = VectorMatmul.QUANTIZED_GEMM_MIN_BATCH + 3;
            float[] x = MatmulTestData.randomActivations(gemmBatch * 512, rnd);
            float[] y = new float[gemmBatch * 64];
            float[] y2 = new float[64];
            float[] y3 = new float[64];
            // Until C2 has compiled every kernel, vectors are heap objects; steady state must
            // allocate nothing. Rounds of 150 calls per type, until one is clean (bounded).
            long allocated = -1;
            for (int round = 0; round < 40; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 50; i++) {
                    for (Weights w : ws) {
                        v.matvec(w, x, 0, y, 0);
                        v.matmul(w, x, y, 4);
                        v.matmul(w, x, y, gemmBatch);
                    }
                    // Shared-input products of copies (one conversion, then each of Q4_K's and Q6_K's).
                    v.matvecs(ws[count + 1], ws[count + 1], ws[count + 2], x, 0, y, y2, y3);
                    v.matvecs(ws[count], ws[count], null, x, 0, y, y2, null);
                }
                allocated = mx.getCurrentThreadAllocatedBytes() - before;
                if (allocated < 1024) break;
            }
            StringBuilder perType = new StringBuilder();
            if (allocated >= 1024) {
                for (Weights w : ws) {
                    long b0 = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 50; i++) v.matvec(w, x, 0, y, 0);
                    long b1 = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 50; i++) v.matmul(w, x, y, 4);
                    long b2 = mx.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < 50; i++) v.matmul(w, x, y, gemmBatch);
                    long b3 = mx.getCurrentThreadAllocatedBytes();
                    perType.append(' ').append(w.type()).append(w.interleaved() != null ? " copy" : "").append(' ').append(b1 - b0).append('/').append(b2 - b1)
                            .append('/').append(b3 - b2);
                }
            }
            // One object per call would be at least 16 bytes x 2400 calls.
            return allocated < 1024 ? null : allocated + " bytes allocated by " + (150 * ws.length + 100)
                    + " warm calls; per type, 50 matvec/50 matmul/50 prefill matmul:" + perType
                    + "\nsampled sites of 50 more calls per type:\n" + sites(() -> {
                        for (int i = 0; i < 50; i++) {
                            for (Weights w : ws) {
                                v.matvec(w, x, 0, y, 0);
                                v.matmul(w, x, y, 4);
                                v.matmul(w, x, y, gemmBatch);
                            }
                        }
                    });
        }
    }
}

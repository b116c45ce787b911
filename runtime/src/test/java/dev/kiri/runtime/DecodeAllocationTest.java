package dev.kiri.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * The decode loop allocates nothing per token once the JIT has compiled it: the F32 model with and
 * without a tokenizer, then the quantized models one after the other in the same JVM, as a service
 * loading several models would (each mixes its named type with others: the fixtures' output and some
 * FFN matrices are Q6_K or Q8_0).
 *
 * <p>The check runs in fresh JVMs with this one's flags, and passes when one of three is clean.
 * What C2 compiles depends on everything the JVM ran before: in the runtime tests' shared JVM
 * (2,000 other tests first), 5 runs in 14 had the Q5_K kernel compiled into code that boxed a vector
 * on every block for as long as the JVM lived, and 2 in about 35 a decode-wide 12 KB a token (a
 * SiLU helper C2 stopped inlining); both causes are removed (docs/KERNELS.md, "Steady-state
 * allocation in decode: C2's trap budget"), but nothing shows that none is left. An allocation our
 * code makes on every token (a {@code new} on the hot path, a species looked up at run time) shows
 * in every JVM and still fails here; a failure prints where the allocation happens (JFR allocation
 * samples of one more long run), and the attempts before a clean one are printed too.
 */
class DecodeAllocationTest {
    private static final List<String> QUANTIZED = List.of("Q4_0", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "Q5_0");

    @Test
    void warmDecodeAllocatesNothingPerToken() throws Exception {
        // Fail here, with the fixtures' own message, rather than three times in the children.
        TinyFixtures.model("tiny-llama-F32.gguf");
        for (String type : QUANTIZED) TinyFixtures.model("tiny-llama-" + type + ".gguf");
        List<String> failures = new ArrayList<>();
        for (int attempt = 1; attempt <= 3; attempt++) {
            String failure = inFreshJvm();
            if (failure == null) {
                if (!failures.isEmpty()) {
                    System.out.println("[decode allocation] clean in fresh JVM " + attempt + "; before it:\n" + String.join("\n", failures));
                }
                return;
            }
            failures.add("JVM " + attempt + ": " + failure);
        }
        assertEquals(List.of(), failures, "every one of 3 fresh JVMs allocated per token at steady state");
    }

    /** Runs {@link #main} in a new JVM with this one's flags and class path: null if it exits 0, else its output. */
    private static String inFreshJvm() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DecodeAllocationTest.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timed out";
        }
        if (p.exitValue() == 0) return null;
        // Without the JVM's and the kernel choice's start-up lines.
        return "exit " + p.exitValue() + ":\n" + new String(out, StandardCharsets.UTF_8).lines()
                .filter(l -> !l.startsWith("WARNING: Using incubator modules") && !l.contains("KernelsProvider choose")
                        && !l.startsWith("INFO: kernels:"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    /** The check itself: exits 0 when no model allocates per token, else prints each one's bytes and sites and exits 1. */
    public static void main(String[] args) throws Exception {
        String failures = failuresInThisJvm();
        if (failures != null) {
            System.out.println(failures);
            System.exit(1);
        }
        System.exit(0);
    }

    /** Runs the sequence in this JVM: null when no model allocates per token, else each one's bytes and sites. */
    static String failuresInThisJvm() throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<String> failures = new ArrayList<>();
        // Without a tokenizer there is no text, so only the result: its token array and the buffer it
        // is copied from (4 bytes a token each). With one, also each token's text and the growing result.
        try (Model noText = TinyFixtures.idsOnly(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).contextLength(256).kvCache(LoadOptions.KvCacheType.F32))) {
            if (noText.tokenizer() != null) throw new AssertionError("idsOnly loaded a tokenizer");
            check(noText, "F32 without text", 8, mx, failures);
        }
        try (Model withText = TinyFixtures.load(TinyFixtures.model("tiny-llama-F32.gguf"),
                LoadOptions.defaults().threads(1).contextLength(256).kvCache(LoadOptions.KvCacheType.F32))) {
            check(withText, "F32 with text", 128, mx, failures);
        }
        // The quantized kernels with the default F16 KV cache.
        for (String type : QUANTIZED) {
            try (Model m = TinyFixtures.idsOnly(TinyFixtures.model("tiny-llama-" + type + ".gguf"),
                    LoadOptions.defaults().threads(1).contextLength(256))) {
                check(m, type, 8, mx, failures);
            }
        }
        return failures.isEmpty() ? null : String.join("\n", failures);
    }

    private static final int SHORT_RUN = 8;
    private static final int LONG_RUN = 200;
    private static final int[] PROMPT = {1, 338, 384};

    private static void check(Model m, String name, double enough, com.sun.management.ThreadMXBean mx, List<String> failures)
            throws Exception {
        double perToken = perExtraToken(m, mx, enough);
        if (perToken > enough) {
            failures.add(name + ": " + perToken + " bytes per token; sampled sites of one more long run:\n" + sites(m));
        }
    }

    /**
     * The difference between a long and a short generation, per extra token. Each run's allocation
     * only falls as the JIT warms up: the least of each over the rounds is its warm value, and their
     * difference is what the extra tokens allocate. (The difference within one round can be negative
     * while the short run still warms up, which once let a kernel allocating on every call pass.)
     * Done when a round lowers neither least value.
     */
    private static double perExtraToken(Model m, com.sun.management.ThreadMXBean mx, double enough) {
        GenerateOptions s = GenerateOptions.greedy().maxTokens(SHORT_RUN).ignoreEndOfGeneration(true);
        GenerateOptions l = GenerateOptions.greedy().maxTokens(LONG_RUN).ignoreEndOfGeneration(true);
        long leastShort = Long.MAX_VALUE, leastLong = Long.MAX_VALUE;
        double per = Double.MAX_VALUE;
        for (int round = 0; round < 30; round++) {
            m.generate(new int[] {1, 2}, s, null); // a different prompt: no reuse of the cache below
            long b0 = mx.getCurrentThreadAllocatedBytes();
            m.generate(PROMPT, s, null);
            long b1 = mx.getCurrentThreadAllocatedBytes();
            m.generate(new int[] {1, 2}, s, null);
            long b2 = mx.getCurrentThreadAllocatedBytes();
            m.generate(PROMPT, l, null);
            long b3 = mx.getCurrentThreadAllocatedBytes();
            boolean settled = b1 - b0 >= leastShort && b3 - b2 >= leastLong; // no run fell further
            leastShort = Math.min(leastShort, b1 - b0);
            leastLong = Math.min(leastLong, b3 - b2);
            per = (leastLong - leastShort) / (double) (LONG_RUN - SHORT_RUN);
            if (settled && per <= enough) break;
        }
        return per;
    }

    /**
     * The most sampled allocation sites of one long run (JFR allocation samples, counted: their
     * weights are not comparable, the first one carrying everything the thread allocated before):
     * class, innermost Kiri frame, innermost frame.
     */
    private static String sites(Model m) throws Exception {
        Path file = Files.createTempFile("kiri-decode-allocation", ".jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.ObjectAllocationSample").with("throttle", "100000/s").withStackTrace();
            r.start();
            m.generate(PROMPT, GenerateOptions.greedy().maxTokens(LONG_RUN).ignoreEndOfGeneration(true), null);
            r.stop();
            r.dump(file);
            Map<String, Long> samples = new HashMap<>();
            for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                if (e.getStackTrace() == null) continue;
                List<RecordedFrame> frames = e.getStackTrace().getFrames();
                String inner = frames.isEmpty() ? "?" : frame(frames.get(0));
                String ours = frames.stream().filter(f -> f.getMethod().getType().getName().startsWith("dev.kiri."))
                        .findFirst().map(DecodeAllocationTest::frame).orElse("-");
                samples.merge(e.getClass("objectClass").getName() + " in " + ours + " (innermost " + inner + ")", 1L, Long::sum);
            }
            StringBuilder out = new StringBuilder();
            samples.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder())).limit(6)
                    .forEach(en -> out.append("    ").append(en.getValue()).append(" samples: ").append(en.getKey()).append('\n'));
            return out.length() == 0 ? "    (no samples)" : out.toString().stripTrailing();
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static String frame(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName() + ":" + f.getLineNumber();
    }
}

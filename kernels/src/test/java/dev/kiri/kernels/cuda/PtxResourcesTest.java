package dev.kiri.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The committed PTX: present in the jar, of the ISA the driver check assumes, with every kernel the Java side launches. */
class PtxResourcesTest {
    private static final Pattern VERSION = Pattern.compile("(?m)^\\.version (\\d+\\.\\d+)$");
    private static final Pattern TARGET = Pattern.compile("(?m)^\\.target (\\w+)$");
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\.visible \\.entry (\\w+)\\(");

    static String ptx(String module) throws IOException {
        try (InputStream in = CudaContext.class.getResourceAsStream("/dev/kiri/kernels/cuda/" + module + ".ptx")) {
            assertNotNull(in, "PTX resource of module " + module + " missing; run scripts/build-ptx.sh");
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    @Test
    void everyModuleDeclaresIsa90ForSm80AndExactlyTheKernelsLaunched() throws IOException {
        for (int m = 0; m < CudaKernels.MODULES.size(); m++) {
            String name = CudaKernels.MODULES.get(m);
            String text = ptx(name);
            Matcher v = VERSION.matcher(text);
            assertEquals(true, v.find(), name + ": no .version line");
            // PTX ISA 8.0 loads on CUDA 12.0 drivers and later: CudaProbe.MIN_DRIVER_VERSION and
            // docs/CUDA.md state that; change all three together.
            assertEquals("8.0", v.group(1), name + ": PTX ISA version");
            assertEquals(12000, CudaProbe.MIN_DRIVER_VERSION);
            Matcher t = TARGET.matcher(text);
            assertEquals(true, t.find(), name + ": no .target line");
            assertEquals("sm_80", t.group(1), name + ": target");
            List<String> entries = new ArrayList<>();
            Matcher e = ENTRY.matcher(text);
            while (e.find()) entries.add(e.group(1));
            assertEquals(CudaKernels.ENTRIES.get(m), entries, name + ": kernel entries");
            // Internal-linkage symbols (a static function's __shared__ array, an anonymous namespace)
            // are named after a hash of the source path: such PTX differs from one checkout to the next.
            assertEquals(-1, text.indexOf("_INTERNAL_"), name + ": a symbol with internal linkage makes the PTX depend on the source path");
        }
    }

    @Test
    void everyTensorCoreProductMultipliesTf32OnTheTensorCores() throws IOException {
        String text = ptx("gemm");
        List<String> entries = CudaKernels.ENTRIES.get(CudaKernels.MODULES.indexOf("gemm"));
        String[] bodies = text.split("(?m)^\\.visible \\.entry ");
        assertEquals(entries.size() + 1, bodies.length, "gemm: one body per entry");
        for (int i = 1; i < bodies.length; i++) {
            String name = bodies[i].substring(0, bodies[i].indexOf('('));
            // 2 x 2 accumulators per warp (4 x 2 in the wide variant), 4 steps of k = 8 per 32-column chunk, unrolled
            long mma = bodies[i].lines().filter(l -> l.contains("wmma.mma.sync.aligned.row.col.m16n16k8.f32.tf32.tf32.f32")).count();
            assertEquals(name.startsWith("kiri_gemm128_") ? 32 : 16, mma, name + ": TF32 wmma products per chunk");
        }
    }
}

package dev.kiri.kernels.matmul;

import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** All types in turn on one instance, as a model mixing weight types calls them. */
    @Test
    void warmCallsAllocateNothing() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Random rnd = new Random(9);
        int count = TYPES.size();
        Weights[] ws = new Weights[count];
        try (Arena arena = Arena.ofShared(); ThreadPool pool3 = new ThreadPool(3); VectorMatmul v = new VectorMatmul(pool3)) {
            for (int k = 0; k < count; k++) {
                GgmlType t = TYPES.get(k);
                ws[k] = MatmulTestData.randomWeights(t, 64, 2 * Math.max(t.blockSize(), 128), rnd, arena);
            }
            int gemmBatch = VectorMatmul.QUANTIZED_GEMM_MIN_BATCH + 3;
            float[] x = MatmulTestData.randomActivations(gemmBatch * 512, rnd);
            float[] y = new float[gemmBatch * 64];
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
                    perType.append(' ').append(w.type()).append(' ').append(b1 - b0).append('/').append(b2 - b1)
                            .append('/').append(b3 - b2);
                }
            }
            // One object per call would be at least 16 bytes x 2250 calls.
            assertTrue(allocated < 1024, allocated + " bytes allocated by " + 150 * count
                    + " warm calls; per type, 50 matvec/50 matmul/50 prefill matmul:" + perType);
        }
    }
}

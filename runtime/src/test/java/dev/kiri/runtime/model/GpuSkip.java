package dev.kiri.runtime.model;

import dev.kiri.kernels.cuda.CudaProbe;
import org.junit.jupiter.api.Assumptions;

/**
 * The gate of the runtime's GPU-tagged tests: where CUDA is not available the test is skipped with
 * the probe's reason, printed so that the skip shows in the build log; with
 * {@code -Dkiri.cuda.require=true} (as {@code scripts/gpu-check.sh} runs them) it fails instead.
 */
public final class GpuSkip {
    private GpuSkip() {
    }

    /** Returns when a GPU can be used; skips or fails the calling test otherwise. */
    public static void requireGpu() {
        CudaProbe.Availability a = CudaProbe.availability();
        if (a.available()) return;
        if (Boolean.getBoolean("kiri.cuda.require")) throw new AssertionError("kiri.cuda.require is set but " + a);
        String why = "GPU test skipped: " + a.reason();
        System.out.println("[cuda] " + why);
        Assumptions.abort(why);
    }
}

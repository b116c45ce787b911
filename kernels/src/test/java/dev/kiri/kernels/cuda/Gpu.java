package dev.kiri.kernels.cuda;

import org.junit.jupiter.api.Assumptions;

/**
 * The GPU of the GPU-tagged tests: one context and one set of kernels for the whole test run,
 * opened on first use. Where CUDA is not available the calling test is skipped with the probe's
 * reason, printed so that the skip is visible in the build log; with {@code -Dkiri.cuda.require=true}
 * (as {@code scripts/gpu-check.sh} runs them) it fails instead.
 */
public final class Gpu {
    private static CudaKernels kernels;

    private Gpu() {
    }

    /** The kernels on device 0, or skips the calling test (saying why) when there is no usable GPU. */
    public static synchronized CudaKernels kernels() {
        CudaProbe.Availability a = CudaProbe.availability();
        if (!a.available()) {
            if (Boolean.getBoolean("kiri.cuda.require")) {
                throw new AssertionError("kiri.cuda.require is set but " + a);
            }
            String why = "GPU test skipped: " + a.reason();
            System.out.println("[cuda] " + why);
            Assumptions.abort(why);
        }
        if (kernels == null) {
            CudaContext ctx = CudaContext.open(0);
            System.out.println("[cuda] " + ctx.device());
            kernels = new CudaKernels(ctx);
        }
        kernels.context().makeCurrent();
        return kernels;
    }
}

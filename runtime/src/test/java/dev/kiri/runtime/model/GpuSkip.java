package dev.kiri.runtime.model;

import dev.kiri.gguf.Fixtures;
import dev.kiri.kernels.cuda.CudaProbe;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /**
     * A fixture model. The GPU machine gets a subset of the fixtures (what fits in what is copied
     * there, see {@code scripts/gpu-pack.sh}), marked by {@code -Dkiri.gpu.fixtureSubset=true}: there
     * a model left out skips its test, saying so. Everywhere else a missing file fails.
     */
    public static Path model(String file) {
        if (Boolean.getBoolean("kiri.gpu.fixtureSubset")) {
            Path p = Fixtures.root().resolve("models").resolve(file);
            if (!Files.exists(p)) {
                String why = file + " is not in the fixture subset copied to this machine";
                System.out.println("[cuda] skipped: " + why);
                Assumptions.abort(why);
            }
        }
        return Fixtures.file("models/" + file);
    }
}

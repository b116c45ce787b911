package dev.kiri.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;

/**
 * Finds out, without harm, whether the CUDA backend can run on this machine.
 *
 * <p>The generated bindings ({@code dev.kiri.kernels.cuda.bindings.CudaDriver}) open
 * {@code libcuda.so.1} in their static initialiser, and a class whose initialiser failed stays
 * unusable for the rest of the run. So this class first looks the library up itself, with
 * {@link SymbolLookup#libraryLookup(String, Arena)} inside a try, and only when that works does it
 * touch the bindings ({@code cuInit}, {@code cuDriverGetVersion}, {@code cuDeviceGetCount}). On a
 * machine without the driver nothing CUDA is loaded, and the answer says why.
 *
 * <p>System properties: {@code kiri.cuda.disable=true} reports CUDA as unavailable without looking;
 * {@code kiri.cuda.library} names the driver library to look for (default {@code libcuda.so.1}; the
 * bindings themselves always load {@code libcuda.so.1}, so a different name only serves to test the
 * probe).
 */
public final class CudaProbe {
    /** The driver library the bindings load: the versioned name, present wherever a driver is. */
    public static final String LIBRARY = "libcuda.so.1";
    /**
     * The oldest driver API version that loads the committed PTX: it declares PTX ISA 8.0 (see
     * {@code scripts/build-ptx.sh}), which CUDA 12.0 drivers load ({@code cuDriverGetVersion}
     * 12000, driver branch R525).
     */
    public static final int MIN_DRIVER_VERSION = 12000;

    /**
     * The probe's answer.
     *
     * @param available     whether a {@link CudaContext} can be opened
     * @param reason        why not (empty when available)
     * @param driverVersion {@code cuDriverGetVersion}, e.g. 13000 for CUDA 13.0; 0 when unknown
     * @param deviceCount   CUDA devices seen by the driver; 0 when unknown
     */
    public record Availability(boolean available, String reason, int driverVersion, int deviceCount) {
        /** Throws {@link CudaUnavailableException} with the reason unless CUDA is available. */
        public void require() {
            if (!available) throw new CudaUnavailableException(reason);
        }

        @Override
        public String toString() {
            return available
                    ? "CUDA available: driver " + versionString(driverVersion) + ", " + deviceCount + " device(s)"
                    : "CUDA not available: " + reason;
        }
    }

    private CudaProbe() {
    }

    private static final class Holder {
        static final Availability AVAILABILITY = probe(System.getProperty("kiri.cuda.library", LIBRARY));
    }

    /** The answer for this run, probed once on first call. */
    public static Availability availability() {
        return Holder.AVAILABILITY;
    }

    /** Formats a driver API version: 13000 as "13.0", 12080 as "12.8". */
    public static String versionString(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }

    /** Probes for {@code library}; package-private so that tests can name a library that does not exist. */
    static Availability probe(String library) {
        if (Boolean.getBoolean("kiri.cuda.disable")) {
            return new Availability(false, "disabled by -Dkiri.cuda.disable=true", 0, 0);
        }
        try {
            // Opened and at once released: this only asks the dynamic linker whether it can be found.
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(library, arena);
            }
        } catch (IllegalArgumentException e) {
            return new Availability(false, "no CUDA driver: " + library
                    + " cannot be loaded (install the NVIDIA driver; only the driver is needed, not the toolkit)", 0, 0);
        } catch (IllegalCallerException e) {
            return new Availability(false, "native access is not enabled for this module (run java with "
                    + "--enable-native-access=ALL-UNNAMED, or the module that holds Kiri): " + e.getMessage(), 0, 0);
        }
        if (!LIBRARY.equals(library)) {
            return new Availability(false, "probed " + library + " instead of " + LIBRARY + " (kiri.cuda.library)", 0, 0);
        }
        try {
            return Driver.probeDevices();
        } catch (CudaException e) {
            return new Availability(false, e.getMessage(), 0, 0);
        } catch (RuntimeException | LinkageError e) {
            return new Availability(false, LIBRARY + " loaded but unusable: " + e, 0, 0);
        }
    }
}

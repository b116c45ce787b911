package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.bindings.CudaDriver.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The one place that turns {@code CUresult} codes into exceptions, and the first class to touch
 * the generated bindings. Only reached after {@link CudaProbe} has found the driver library.
 */
final class Driver {
    private Driver() {
    }

    /** Throws a {@link CudaException} naming {@code call}, {@code what} and the driver's error unless {@code result} is 0. */
    static void check(int result, String call, String what) {
        if (result != 0) throw error(result, call, what);
    }

    static CudaException error(int result, String call, String what) {
        String name = errorName(result);
        String text = errorString(result);
        String where = what == null || what.isEmpty() ? call : call + " (" + what + ")";
        String message = where + ": " + name + (text.isEmpty() ? "" : " (" + text + ")");
        if (result == CUDA_ERROR_UNSUPPORTED_PTX_VERSION()) {
            message += "; the kernels are PTX ISA 8.0 and need a CUDA "
                    + CudaProbe.versionString(CudaProbe.MIN_DRIVER_VERSION) + " driver or newer (R525+)"
                    + driverVersionNote();
        }
        return new CudaException(result, name, message);
    }

    /** The driver's name for a result code, e.g. {@code CUDA_ERROR_INVALID_VALUE}; "CUresult N" when it has none. */
    static String errorName(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            if (cuGetErrorName(result, p) != 0) return "CUresult " + result;
            MemorySegment s = p.get(ValueLayout.ADDRESS, 0);
            return s.equals(MemorySegment.NULL) ? "CUresult " + result : s.reinterpret(256).getString(0);
        }
    }

    /** The driver's description of a result code; empty when it has none. */
    static String errorString(int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            if (cuGetErrorString(result, p) != 0) return "";
            MemorySegment s = p.get(ValueLayout.ADDRESS, 0);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(1024).getString(0);
        }
    }

    private static String driverVersionNote() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            if (cuDriverGetVersion(v) == 0) return "; this driver supports CUDA " + CudaProbe.versionString(v.get(ValueLayout.JAVA_INT, 0));
        }
        return "";
    }

    /** cuInit, the driver version and the device count, as the probe reports them. */
    static CudaProbe.Availability probeDevices() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i = arena.allocate(ValueLayout.JAVA_INT);
            check(cuDriverGetVersion(i), "cuDriverGetVersion", "");
            int version = i.get(ValueLayout.JAVA_INT, 0);
            int init = cuInit(0);
            if (init == CUDA_ERROR_NO_DEVICE()) {
                return new CudaProbe.Availability(false, "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE); driver "
                        + CudaProbe.versionString(version), version, 0);
            }
            if (init != 0) {
                return new CudaProbe.Availability(false, error(init, "cuInit", "").getMessage(), version, 0);
            }
            check(cuDeviceGetCount(i), "cuDeviceGetCount", "");
            int count = i.get(ValueLayout.JAVA_INT, 0);
            if (count == 0) {
                return new CudaProbe.Availability(false, "no CUDA device (cuDeviceGetCount is 0)", version, 0);
            }
            if (version < CudaProbe.MIN_DRIVER_VERSION) {
                return new CudaProbe.Availability(false, "the driver supports CUDA " + CudaProbe.versionString(version)
                        + " but the kernels (PTX ISA 8.0) need CUDA "
                        + CudaProbe.versionString(CudaProbe.MIN_DRIVER_VERSION) + " or newer: update the NVIDIA driver to R525+",
                        version, count);
            }
            return new CudaProbe.Availability(true, "", version, count);
        }
    }
}

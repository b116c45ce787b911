package dev.kiri.kernels.cuda;

/**
 * What the driver says about a device.
 *
 * @param ordinal          the device number ({@code cuDeviceGet})
 * @param name             e.g. {@code NVIDIA H200}
 * @param computeMajor     compute capability, major
 * @param computeMinor     compute capability, minor
 * @param multiprocessors  streaming multiprocessors
 * @param totalMemory      bytes of device memory
 * @param l2CacheBytes     L2 cache size
 * @param memoryClockKHz   peak memory clock in kHz (0 when the driver does not report it)
 * @param busWidthBits     global memory bus width in bits (0 when not reported)
 * @param maxSharedPerBlockOptin  shared memory a block may opt in to, in bytes
 * @param driverVersion    {@code cuDriverGetVersion}, e.g. 13000
 */
public record DeviceInfo(int ordinal, String name, int computeMajor, int computeMinor, int multiprocessors,
                         long totalMemory, int l2CacheBytes, int memoryClockKHz, int busWidthBits,
                         int maxSharedPerBlockOptin, int driverVersion) {

    /**
     * Theoretical peak memory bandwidth in bytes per second: two transfers per memory clock
     * times the bus width; 0 when the driver does not report clock or width.
     */
    public double peakBandwidth() {
        return 2.0 * memoryClockKHz * 1000.0 * (busWidthBits / 8.0);
    }

    @Override
    public String toString() {
        return String.format("%s (device %d, sm_%d%d, %d SMs, %.1f GiB, L2 %d MiB, peak %.0f GB/s, driver %s)",
                name, ordinal, computeMajor, computeMinor, multiprocessors, totalMemory / (double) (1L << 30),
                l2CacheBytes >> 20, peakBandwidth() / 1e9, CudaProbe.versionString(driverVersion));
    }
}

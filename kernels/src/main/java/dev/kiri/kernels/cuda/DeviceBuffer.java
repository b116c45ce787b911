package dev.kiri.kernels.cuda;

/**
 * A range of device memory: an allocation of a {@link CudaContext}, or a slice of one. Closing an
 * allocation frees it (once; later closes do nothing); closing a slice does nothing. The address
 * is a {@code CUdeviceptr}: meaningful only to the driver and the kernels.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaContext owner;   // null for a slice
    private final long address;
    private final long byteSize;
    private final String what;
    private boolean freed;

    DeviceBuffer(CudaContext owner, long address, long byteSize, String what) {
        this.owner = owner;
        this.address = address;
        this.byteSize = byteSize;
        this.what = what;
    }

    /** The device address of the first byte. */
    public long address() {
        checkLive();
        return address;
    }

    /** The address without the liveness check: for the owner's free. */
    long rawAddress() {
        return address;
    }

    /** Bytes in this buffer. */
    public long byteSize() {
        return byteSize;
    }

    /** Floats that fit in this buffer. */
    public long floats() {
        return byteSize / Float.BYTES;
    }

    /** What the buffer holds, for messages. */
    public String what() {
        return what;
    }

    /** A view of {@code bytes} bytes from {@code offset}; valid while this buffer is. */
    public DeviceBuffer slice(long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > byteSize) {
            throw new IndexOutOfBoundsException(what + ": slice " + offset + "+" + bytes + " of " + byteSize + " bytes");
        }
        checkLive();
        return new DeviceBuffer(null, address + offset, bytes, what + "[" + offset + "+" + bytes + "]");
    }

    /** A view of {@code n} floats from float index {@code from}. */
    public DeviceBuffer sliceFloats(long from, long n) {
        return slice(from * Float.BYTES, n * Float.BYTES);
    }

    /** Checks that {@code bytes} bytes fit, naming the buffer and the operation otherwise. */
    void require(long bytes, String op) {
        if (bytes > byteSize) {
            throw new IllegalArgumentException(op + ": " + what + " holds " + byteSize + " bytes, needs " + bytes);
        }
    }

    private void checkLive() {
        if (freed) throw new IllegalStateException(what + ": device buffer already freed");
    }

    @Override
    public void close() {
        if (owner == null || freed) return;
        freed = true;
        owner.free(this);
    }

    @Override
    public String toString() {
        return what + " (" + byteSize + " bytes at 0x" + Long.toHexString(address) + ")";
    }
}

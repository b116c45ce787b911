package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.Driver.check;
import static dev.kiri.kernels.cuda.bindings.CudaDriver.*;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One CUDA device in use: its primary context, one non-blocking stream on which everything is
 * queued, the device memory allocated through it (counted, and freed on {@link #close()}), and
 * the PTX modules loaded into it.
 *
 * <p>Opening checks {@link CudaProbe#availability()} first and throws
 * {@link CudaUnavailableException} with the reason when CUDA cannot be used. Every failing driver
 * call throws {@link CudaException} with the driver's error name.
 *
 * <p>Threads: the context is made current on the opening thread. A different thread must call
 * {@link #makeCurrent()} before using it. Not for concurrent use.
 */
public final class CudaContext implements AutoCloseable {
    /** Device memory left free after an allocation, for the driver and the kernels' launch needs. */
    public static final long HEADROOM = 256L << 20;

    private final Arena arena = Arena.ofShared();
    private final DeviceInfo info;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final Map<DeviceBuffer, Boolean> live = new IdentityHashMap<>();
    private final List<CudaModule> modules = new ArrayList<>();
    private MemorySegment staging;     // page-locked when the driver agrees (pinned)
    private boolean stagingPinned;
    private long allocated;
    private boolean closed;

    private CudaContext(DeviceInfo info, int device, MemorySegment context, MemorySegment stream) {
        this.info = info;
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.staging = arena.allocate(1 << 20, 4096);
        pinStaging();
    }

    /**
     * Page-locks the staging buffer, so that copies through it run at the bus's speed without the
     * driver's own bounce buffer. Where the driver refuses, copies still work, only slower.
     */
    private void pinStaging() {
        stagingPinned = cuMemHostRegister_v2(staging, staging.byteSize(), 0) == 0;
    }

    private void unpinStaging() {
        if (stagingPinned) cuMemHostUnregister(staging);
        stagingPinned = false;
    }

    /**
     * Opens device {@code ordinal}: retains its primary context, makes it current on this thread
     * and creates the stream.
     *
     * @throws CudaUnavailableException when CUDA cannot be used here, saying why
     * @throws CudaException            when a driver call fails
     */
    public static CudaContext open(int ordinal) {
        CudaProbe.Availability a = CudaProbe.availability();
        a.require();
        if (ordinal < 0 || ordinal >= a.deviceCount()) {
            throw new CudaUnavailableException("no CUDA device " + ordinal + " (there are " + a.deviceCount() + ")");
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment i = tmp.allocate(ValueLayout.JAVA_INT);
            check(cuDeviceGet(i, ordinal), "cuDeviceGet", "device " + ordinal);
            int dev = i.get(ValueLayout.JAVA_INT, 0);
            DeviceInfo info = deviceInfo(tmp, ordinal, dev, a.driverVersion());
            MemorySegment p = tmp.allocate(ValueLayout.ADDRESS);
            check(cuDevicePrimaryCtxRetain(p, dev), "cuDevicePrimaryCtxRetain", info.name());
            MemorySegment ctx = p.get(ValueLayout.ADDRESS, 0);
            try {
                check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent", info.name());
                check(cuStreamCreate(p, CU_STREAM_NON_BLOCKING()), "cuStreamCreate", info.name());
            } catch (CudaException e) {
                cuDevicePrimaryCtxRelease_v2(dev);
                throw e;
            }
            return new CudaContext(info, dev, ctx, p.get(ValueLayout.ADDRESS, 0));
        }
    }

    private static DeviceInfo deviceInfo(Arena tmp, int ordinal, int dev, int driverVersion) {
        MemorySegment name = tmp.allocate(256);
        check(cuDeviceGetName(name, 256, dev), "cuDeviceGetName", "device " + ordinal);
        MemorySegment bytes = tmp.allocate(ValueLayout.JAVA_LONG);
        check(cuDeviceTotalMem_v2(bytes, dev), "cuDeviceTotalMem_v2", "device " + ordinal);
        return new DeviceInfo(ordinal, name.getString(0),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR(), "compute capability major"),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR(), "compute capability minor"),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT(), "multiprocessors"),
                bytes.get(ValueLayout.JAVA_LONG, 0),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE(), "L2 cache size"),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE(), "memory clock"),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH(), "memory bus width"),
                attribute(tmp, dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN(), "shared memory per block"),
                driverVersion);
    }

    private static int attribute(Arena tmp, int dev, int attribute, String what) {
        MemorySegment v = tmp.allocate(ValueLayout.JAVA_INT);
        int r = cuDeviceGetAttribute(v, attribute, dev);
        // An attribute a newer driver no longer reports reads as 0 rather than failing the open.
        if (r == CUDA_ERROR_NOT_INITIALIZED()) check(r, "cuDeviceGetAttribute", what);
        return r == 0 ? v.get(ValueLayout.JAVA_INT, 0) : 0;
    }

    /** The device's properties. */
    public DeviceInfo device() {
        return info;
    }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        checkOpen();
        check(cuCtxSetCurrent(context), "cuCtxSetCurrent", info.name());
    }

    /** Free and total device memory, as the driver counts them now (all processes). */
    public MemoryInfo memoryInfo() {
        checkOpen();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment free = tmp.allocate(ValueLayout.JAVA_LONG);
            MemorySegment total = tmp.allocate(ValueLayout.JAVA_LONG);
            check(cuMemGetInfo_v2(free, total), "cuMemGetInfo_v2", info.name());
            return new MemoryInfo(free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    /**
     * Free and total device memory in bytes.
     *
     * @param free  bytes the driver can still allocate
     * @param total bytes of device memory
     */
    public record MemoryInfo(long free, long total) {
    }

    /** Bytes allocated through this context and not yet freed. */
    public synchronized long allocatedBytes() {
        return allocated;
    }

    /**
     * Checks, before anything is allocated, that {@code bytes} more fit on the device with
     * {@link #HEADROOM} to spare; throws {@link CudaException} (result -1) saying how much is
     * needed and free otherwise. For loading: account for the whole model, then allocate.
     */
    public void requireFits(long bytes, String what) {
        MemoryInfo m = memoryInfo();
        if (bytes + HEADROOM > m.free()) {
            throw new CudaException(-1, "OUT_OF_DEVICE_MEMORY", String.format(
                    "%s needs %.1f MiB of device memory but %s has %.1f MiB free of %.1f MiB (%.0f MiB kept in reserve)",
                    what, bytes / 1048576.0, info.name(), m.free() / 1048576.0, m.total() / 1048576.0,
                    HEADROOM / 1048576.0));
        }
    }

    /** Allocates {@code bytes} of device memory (contents undefined). */
    public DeviceBuffer allocate(long bytes, String what) {
        checkOpen();
        if (bytes <= 0) throw new IllegalArgumentException(what + ": cannot allocate " + bytes + " bytes");
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment p = tmp.allocate(ValueLayout.JAVA_LONG);
            int r = cuMemAlloc_v2(p, bytes);
            if (r != 0) {
                throw Driver.error(r, "cuMemAlloc_v2", what + ", " + bytes + " bytes; " + allocated
                        + " bytes already allocated by this context");
            }
            DeviceBuffer b = new DeviceBuffer(this, p.get(ValueLayout.JAVA_LONG, 0), bytes, what);
            synchronized (this) {
                live.put(b, Boolean.TRUE);
                allocated += bytes;
            }
            return b;
        }
    }

    /** Allocates {@code n} floats and zeroes them. */
    public DeviceBuffer allocateFloats(long n, String what) {
        DeviceBuffer b = allocate(n * Float.BYTES, what);
        fill(b, 0);
        return b;
    }

    void free(DeviceBuffer b) {
        synchronized (this) {
            if (live.remove(b) == null) return;
            allocated -= b.byteSize();
        }
        if (!closed) check(cuMemFree_v2(b.rawAddress()), "cuMemFree_v2", b.what());
    }

    /** Sets every 32-bit word of {@code b} to {@code bits}, queued on the stream (graph-capturable). */
    public void fill(DeviceBuffer b, int bits) {
        check(cuMemsetD32Async(b.address(), bits, b.byteSize() / 4, stream), "cuMemsetD32Async", b.what());
    }

    /** Queues the fill of the first {@code count} 32-bit words of {@code b} with {@code bits}. */
    public void fill(DeviceBuffer b, long count, int bits) {
        b.require(4 * count, "fill");
        check(cuMemsetD32Async(b.address(), bits, count, stream), "cuMemsetD32Async", b.what());
    }

    /**
     * Queues the write of one {@code int} into {@code b} at int index {@code index}: how a step's
     * position or token id reaches a captured graph without a host buffer that must outlive the copy.
     */
    public void setInt(DeviceBuffer b, int index, int value) {
        b.require((index + 1L) * 4, "setInt");
        check(cuMemsetD32Async(b.address() + 4L * index, value, 1, stream), "cuMemsetD32Async", b.what());
    }

    /**
     * Copies {@code src} to the device after everything queued so far, and waits for the copy.
     * Native segments (mapped files are) go straight to the driver; heap segments through the
     * staging buffer, 8 MiB at a time.
     */
    public void upload(MemorySegment src, DeviceBuffer dst, long dstOffset) {
        checkOpen();
        dst.require(dstOffset + src.byteSize(), "upload");
        if (!src.isNative()) {
            long chunk = 8L << 20;
            for (long o = 0; o < src.byteSize(); o += chunk) {
                long n = Math.min(chunk, src.byteSize() - o);
                MemorySegment s = staging(n).asSlice(0, n);
                MemorySegment.copy(src, o, s, 0, n);
                upload(s, dst, dstOffset + o);
            }
            return;
        }
        // Queued on the stream (ordered after the kernels already queued there, which a copy on
        // the legacy default stream would not be: the stream is non-blocking), then waited for.
        check(cuMemcpyHtoDAsync_v2(dst.address() + dstOffset, src, src.byteSize(), stream), "cuMemcpyHtoDAsync_v2", dst.what());
        check(cuStreamSynchronize(stream), "cuStreamSynchronize", "upload to " + dst.what());
    }

    /** Copies {@code n} floats of {@code src} from {@code off} to float index {@code dstIndex} of {@code dst} and waits. */
    public void upload(float[] src, int off, int n, DeviceBuffer dst, long dstIndex) {
        MemorySegment s = staging((long) n * Float.BYTES);
        MemorySegment.copy(src, off, s, ValueLayout.JAVA_FLOAT, 0, n);
        upload(s.asSlice(0, (long) n * Float.BYTES), dst, dstIndex * Float.BYTES);
    }

    /** Copies {@code n} ints of {@code src} from {@code off} to int index {@code dstIndex} of {@code dst} and waits. */
    public void upload(int[] src, int off, int n, DeviceBuffer dst, long dstIndex) {
        MemorySegment s = staging((long) n * Integer.BYTES);
        MemorySegment.copy(src, off, s, ValueLayout.JAVA_INT, 0, n);
        upload(s.asSlice(0, (long) n * Integer.BYTES), dst, dstIndex * Integer.BYTES);
    }

    /** Copies device bytes into native memory after everything queued has run. */
    public void download(DeviceBuffer src, long srcOffset, MemorySegment dst) {
        checkOpen();
        if (!dst.isNative()) throw new IllegalArgumentException("download from " + src.what() + " needs a native segment");
        src.require(srcOffset + dst.byteSize(), "download");
        check(cuMemcpyDtoHAsync_v2(dst, src.address() + srcOffset, dst.byteSize(), stream), "cuMemcpyDtoHAsync_v2", src.what());
        check(cuStreamSynchronize(stream), "cuStreamSynchronize", "download from " + src.what());
    }

    /** Copies {@code n} floats from float index {@code srcIndex} of {@code src} into {@code dst[off..]}. */
    public void download(DeviceBuffer src, long srcIndex, float[] dst, int off, int n) {
        MemorySegment s = staging((long) n * Float.BYTES).asSlice(0, (long) n * Float.BYTES);
        download(src, srcIndex * Float.BYTES, s);
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, 0, dst, off, n);
    }

    private MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            unpinStaging();
            staging = arena.allocate(Math.max(bytes, 2 * staging.byteSize()), 4096);
            pinStaging();
        }
        return staging;
    }

    /** Waits for everything queued on the stream. */
    public void synchronize() {
        checkOpen();
        check(cuStreamSynchronize(stream), "cuStreamSynchronize", info.name());
    }

    /**
     * Loads the PTX resource {@code dev/kiri/kernels/cuda/NAME.ptx} with {@code cuModuleLoadDataEx};
     * the driver JIT-compiles it for this GPU, and its error log, if any, ends up in the exception.
     */
    public CudaModule loadModule(String name) {
        String resource = "/dev/kiri/kernels/cuda/" + name + ".ptx";
        byte[] ptx;
        try (InputStream in = CudaContext.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("PTX resource " + resource + " is missing from the jar");
            ptx = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + resource, e);
        }
        return loadModule(name, ptx);
    }

    /** Loads PTX text (without a terminating NUL; one is added). */
    public CudaModule loadModule(String name, byte[] ptx) {
        checkOpen();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment image = tmp.allocate(ptx.length + 1L);
            MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
            int logSize = 16 << 10;
            MemorySegment log = tmp.allocate(logSize);
            MemorySegment options = tmp.allocate(ValueLayout.JAVA_INT, 2);
            options.setAtIndex(ValueLayout.JAVA_INT, 0, CU_JIT_ERROR_LOG_BUFFER());
            options.setAtIndex(ValueLayout.JAVA_INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
            MemorySegment values = tmp.allocate(ValueLayout.ADDRESS, 2);
            values.setAtIndex(ValueLayout.ADDRESS, 0, log);
            values.setAtIndex(ValueLayout.ADDRESS, 1, MemorySegment.ofAddress(logSize));
            MemorySegment p = tmp.allocate(ValueLayout.ADDRESS);
            int r = cuModuleLoadDataEx(p, image, 2, options, values);
            if (r != 0) {
                CudaException e = Driver.error(r, "cuModuleLoadDataEx", name + ".ptx");
                String jitLog = log.getString(0).strip();
                throw jitLog.isEmpty() ? e : new CudaException(r, e.errorName(), e.getMessage() + "\nJIT log:\n" + jitLog);
            }
            CudaModule m = new CudaModule(name, p.get(ValueLayout.ADDRESS, 0), stream);
            modules.add(m);
            return m;
        }
    }

    /**
     * Records what {@code body} queues on the stream (kernel launches, {@link #fill}, {@link #setInt})
     * into a graph instead of running it; the graph replays it with one launch. Nothing in the
     * body may synchronise or copy synchronously.
     */
    public CudaGraph capture(Runnable body) {
        checkOpen();
        check(cuStreamBeginCapture_v2(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL()), "cuStreamBeginCapture_v2", info.name());
        RuntimeException failure = null;
        try {
            body.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment g = tmp.allocate(ValueLayout.ADDRESS);
            int r = cuStreamEndCapture(stream, g);
            if (failure != null) {
                if (r == 0) cuGraphDestroy(g.get(ValueLayout.ADDRESS, 0));
                throw failure;
            }
            check(r, "cuStreamEndCapture", info.name());
            MemorySegment graph = g.get(ValueLayout.ADDRESS, 0);
            MemorySegment e = tmp.allocate(ValueLayout.ADDRESS);
            int ri = cuGraphInstantiateWithFlags(e, graph, 0L);
            if (ri != 0) {
                cuGraphDestroy(graph);
                check(ri, "cuGraphInstantiateWithFlags", info.name());
            }
            return new CudaGraph(graph, e.get(ValueLayout.ADDRESS, 0), stream);
        }
    }

    MemorySegment stream() {
        return stream;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("CUDA context of " + info.name() + " is closed");
    }

    /** Frees every buffer still allocated, unloads the modules, destroys the stream and releases the context. */
    @Override
    public void close() {
        if (closed) return;
        makeCurrent();
        cuStreamSynchronize(stream);
        List<DeviceBuffer> left;
        synchronized (this) {
            left = new ArrayList<>(live.keySet());
        }
        for (DeviceBuffer b : left) b.close();
        for (CudaModule m : modules) m.unload();
        modules.clear();
        closed = true;
        unpinStaging();
        cuStreamDestroy_v2(stream);
        cuDevicePrimaryCtxRelease_v2(device);
        arena.close();
    }
}

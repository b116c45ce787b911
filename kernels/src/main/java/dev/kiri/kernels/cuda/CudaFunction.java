package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.bindings.CudaDriver.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
import static dev.kiri.kernels.cuda.bindings.CudaDriver.cuFuncSetAttribute;
import static dev.kiri.kernels.cuda.bindings.CudaDriver.cuLaunchKernel;

import java.lang.foreign.MemorySegment;

/** A kernel of a loaded module, launched on its context's stream. */
public final class CudaFunction {
    private final String name;
    private final MemorySegment handle;
    private final MemorySegment stream;

    CudaFunction(String name, MemorySegment handle, MemorySegment stream) {
        this.name = name;
        this.handle = handle;
        this.stream = stream;
    }

    /** {@code module.entry}. */
    public String name() {
        return name;
    }

    /** Raises the dynamic shared memory a launch may ask for above the default 48 KiB (to {@code bytes}). */
    public void allowDynamicShared(int bytes) {
        int r = cuFuncSetAttribute(handle, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES(), bytes);
        if (r != 0) throw Driver.error(r, "cuFuncSetAttribute", name + " dynamic shared memory " + bytes + " bytes");
    }

    /**
     * Queues the kernel on the stream: {@code gridX x gridY} blocks of {@code blockX} threads with
     * {@code sharedBytes} of dynamic shared memory and the arguments in {@code args}. Allocates
     * nothing; errors of the launch itself (bad configuration) throw here, errors while the kernel
     * runs surface at the next synchronisation.
     */
    public void launch(int gridX, int gridY, int blockX, int sharedBytes, KernelArgs args) {
        if (gridX <= 0 || gridY <= 0 || blockX <= 0) {
            throw new IllegalArgumentException(name + ": launch of " + gridX + "x" + gridY + " blocks of " + blockX + " threads");
        }
        int r = cuLaunchKernel(handle, gridX, gridY, 1, blockX, 1, 1, sharedBytes, stream, args.pointers(),
                MemorySegment.NULL);
        if (r != 0) throw Driver.error(r, "cuLaunchKernel", name + " " + gridX + "x" + gridY + " blocks of " + blockX);
    }
}

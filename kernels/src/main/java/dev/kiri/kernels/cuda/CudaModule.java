package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.Driver.check;
import static dev.kiri.kernels.cuda.bindings.CudaDriver.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A loaded PTX module of a {@link CudaContext}; unloaded when the context closes. */
public final class CudaModule {
    private final String name;
    private final MemorySegment handle;
    private final MemorySegment stream;
    private boolean unloaded;

    CudaModule(String name, MemorySegment handle, MemorySegment stream) {
        this.name = name;
        this.handle = handle;
        this.stream = stream;
    }

    /** The module's name (the PTX file name without extension). */
    public String name() {
        return name;
    }

    /** The kernel {@code entry} (an {@code extern "C"} name) of this module. */
    public CudaFunction function(String entry) {
        if (unloaded) throw new IllegalStateException("module " + name + " is unloaded");
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment p = tmp.allocate(ValueLayout.ADDRESS);
            check(cuModuleGetFunction(p, handle, tmp.allocateFrom(entry)), "cuModuleGetFunction", name + "." + entry);
            return new CudaFunction(name + "." + entry, p.get(ValueLayout.ADDRESS, 0), stream);
        }
    }

    void unload() {
        if (unloaded) return;
        unloaded = true;
        check(cuModuleUnload(handle), "cuModuleUnload", name);
    }
}

package dev.kiri.kernels.cuda;

import static dev.kiri.kernels.cuda.Driver.check;
import static dev.kiri.kernels.cuda.bindings.CudaDriver.*;

import java.lang.foreign.MemorySegment;

/**
 * An instantiated CUDA graph made by {@link CudaContext#capture}: a recorded sequence of kernel
 * launches and memory sets replayed with one {@code cuGraphLaunch}. Values that change from one
 * replay to the next (position, token id) live in device memory the kernels read, set with
 * {@link CudaContext#setInt} before the launch.
 */
public final class CudaGraph implements AutoCloseable {
    private final MemorySegment graph;
    private final MemorySegment exec;
    private final MemorySegment stream;
    private boolean closed;

    CudaGraph(MemorySegment graph, MemorySegment exec, MemorySegment stream) {
        this.graph = graph;
        this.exec = exec;
        this.stream = stream;
    }

    /** Queues one replay of the graph on the stream. */
    public void launch() {
        if (closed) throw new IllegalStateException("graph is closed");
        check(cuGraphLaunch(exec, stream), "cuGraphLaunch", "");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        check(cuGraphExecDestroy(exec), "cuGraphExecDestroy", "");
        check(cuGraphDestroy(graph), "cuGraphDestroy", "");
    }
}

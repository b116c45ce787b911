package dev.kiri.kernels.cuda;

/**
 * A KV cache in device memory, F32, per layer one key and one value buffer laid out
 * {@code [kvHeads][capacity][headDim]} (a head's positions contiguous, so that decode attention
 * streams them).
 */
public final class DeviceKvCache implements AutoCloseable {
    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private final DeviceBuffer[] k;
    private final DeviceBuffer[] v;

    /** Allocates (after {@link CudaContext#requireFits}) and zeroes the cache. */
    public DeviceKvCache(CudaContext ctx, int layers, int kvHeads, int headDim, int capacity) {
        if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("KV cache of " + layers + " layers, " + kvHeads + " heads of " + headDim
                    + ", " + capacity + " positions");
        }
        if (headDim > CudaKernels.MAX_HEAD_DIM) {
            throw new IllegalArgumentException("head dimension " + headDim + " exceeds " + CudaKernels.MAX_HEAD_DIM);
        }
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        long perLayer = (long) kvHeads * capacity * headDim;
        ctx.requireFits(2L * layers * perLayer * Float.BYTES, "KV cache");
        k = new DeviceBuffer[layers];
        v = new DeviceBuffer[layers];
        for (int l = 0; l < layers; l++) {
            k[l] = ctx.allocateFloats(perLayer, "KV cache keys, layer " + l);
            v[l] = ctx.allocateFloats(perLayer, "KV cache values, layer " + l);
        }
    }

    /** Layers. */
    public int layers() { return layers; }
    /** KV heads per layer. */
    public int kvHeads() { return kvHeads; }
    /** Dimension of a head. */
    public int headDim() { return headDim; }
    /** Positions it holds. */
    public int capacity() { return capacity; }
    /** Keys of {@code layer}. */
    public DeviceBuffer keys(int layer) { return k[layer]; }
    /** Values of {@code layer}. */
    public DeviceBuffer values(int layer) { return v[layer]; }

    /** Device bytes the cache takes. */
    public long byteSize() {
        return 2L * layers * kvHeads * capacity * headDim * Float.BYTES;
    }

    @Override
    public void close() {
        for (int l = 0; l < layers; l++) {
            k[l].close();
            v[l].close();
        }
    }
}

package dev.kiri.kernels;

/**
 * The keys and values of one sequence, reserved up front for {@code capacity} positions.
 * Layout per layer and KV head: {@code [position][headDim]} contiguous, so that attention for one
 * head streams its keys (and then its values) in order. Stored as F32 or F16 (the default in the
 * runtime; half the memory, converted on read).
 */
public final class KvCache {
    /** Element type of the stored keys and values. */
    public enum Type { F32, F16 }

    private final int layers;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private final Type type;
    // Per layer: [kvHead][pos][headDim]. One of the two pairs is used, by type.
    private final float[][] k32;
    private final float[][] v32;
    private final short[][] k16;
    private final short[][] v16;

    public KvCache(int layers, int kvHeads, int headDim, int capacity, Type type) {
        if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("bad KV cache shape: layers " + layers + ", kv heads " + kvHeads
                    + ", head dim " + headDim + ", capacity " + capacity);
        }
        long perLayer = (long) kvHeads * capacity * headDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache layer too large: " + kvHeads + " x " + capacity + " x " + headDim);
        }
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.type = type;
        if (type == Type.F32) {
            k32 = new float[layers][(int) perLayer];
            v32 = new float[layers][(int) perLayer];
            k16 = v16 = null;
        } else {
            k16 = new short[layers][(int) perLayer];
            v16 = new short[layers][(int) perLayer];
            k32 = v32 = null;
        }
    }

    public int layers() { return layers; }
    public int kvHeads() { return kvHeads; }
    public int headDim() { return headDim; }
    public int capacity() { return capacity; }
    public Type type() { return type; }

    /** Bytes reserved for keys and values. */
    public long byteSize() {
        return 2L * layers * kvHeads * capacity * headDim * (type == Type.F32 ? 4 : 2);
    }

    /** Index of element 0 of (head, pos) inside a layer's array. */
    public int index(int head, int pos) {
        return (head * capacity + pos) * headDim;
    }

    /**
     * Stores the keys and values of every KV head for one position: {@code k[kOff + h*headDim + d]}.
     */
    public void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        if (pos < 0 || pos >= capacity) throw new IndexOutOfBoundsException("position " + pos + " outside the KV cache of " + capacity);
        for (int h = 0; h < kvHeads; h++) {
            int dst = index(h, pos);
            int src = h * headDim;
            if (type == Type.F32) {
                System.arraycopy(k, kOff + src, k32[layer], dst, headDim);
                System.arraycopy(v, vOff + src, v32[layer], dst, headDim);
            } else {
                short[] kl = k16[layer];
                short[] vl = v16[layer];
                for (int d = 0; d < headDim; d++) {
                    kl[dst + d] = Float.floatToFloat16(k[kOff + src + d]);
                    vl[dst + d] = Float.floatToFloat16(v[vOff + src + d]);
                }
            }
        }
    }

    /** Layer keys as F32 ({@link Type#F32} only), layout {@code [kvHead][pos][headDim]}. */
    public float[] keysF32(int layer) { return k32[layer]; }
    public float[] valuesF32(int layer) { return v32[layer]; }
    /** Layer keys as F16 bits ({@link Type#F16} only). */
    public short[] keysF16(int layer) { return k16[layer]; }
    public short[] valuesF16(int layer) { return v16[layer]; }

    /** Key element as float, whatever the storage type (for reference code and tests). */
    public float key(int layer, int head, int pos, int d) {
        int i = index(head, pos) + d;
        return type == Type.F32 ? k32[layer][i] : Float.float16ToFloat(k16[layer][i]);
    }

    public float value(int layer, int head, int pos, int d) {
        int i = index(head, pos) + d;
        return type == Type.F32 ? v32[layer][i] : Float.float16ToFloat(v16[layer][i]);
    }
}

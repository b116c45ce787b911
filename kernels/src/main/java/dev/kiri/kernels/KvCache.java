package dev.kiri.kernels;

/**
 * The keys and values of one sequence, reserved up front for {@code capacity} positions, stored as
 * F32 or F16 (the default in the runtime; half the memory, converted on read).
 *
 * <p>Layout per layer and KV head. Values are {@code [position][headDim]}, so that attention adds
 * whole value rows. Keys are transposed in tiles of {@link #KEY_TILE} positions, so that one vector
 * load gives the same dimension of 16 consecutive keys and attention scores 16 positions with
 * plain multiply-adds, with no horizontal sums:
 *
 * <pre>
 *  keys of one KV head:   tile 0 (positions 0..15)          tile 1 (positions 16..31)   ...
 *                         d=0: k0[0] k1[0] ... k15[0]        d=0: k16[0] ... k31[0]
 *                         d=1: k0[1] k1[1] ... k15[1]        ...
 *                         ...
 *  values of one KV head: v0[0..headDim) v1[0..headDim) ...
 * </pre>
 * The capacity is rounded up to whole tiles.
 */
public final class KvCache {
    /** Element type of the stored keys and values. */
    public enum Type { F32, F16 }

    /** Positions per key tile. */
    public static final int KEY_TILE = 16;

    private final int layers;
    private final int firstLayer;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private final int paddedCapacity;
    private final Type type;
    // Per layer, per KV head: keys in tiles [tile][headDim][KEY_TILE], values [pos][headDim].
    // One of the two pairs is used, by type.
    private final float[][] k32;
    private final float[][] v32;
    private final short[][] k16;
    private final short[][] v16;

    public KvCache(int layers, int kvHeads, int headDim, int capacity, Type type) {
        this(layers, 0, kvHeads, headDim, capacity, type);
    }

    /**
     * A cache that holds only layers {@code firstLayer .. layers-1} (the ones below run elsewhere,
     * e.g. on a GPU with a cache of their own): the others take no memory and must not be used.
     */
    public KvCache(int layers, int firstLayer, int kvHeads, int headDim, int capacity, Type type) {
        if (firstLayer < 0 || firstLayer > layers) {
            throw new IllegalArgumentException("first cached layer " + firstLayer + " of " + layers);
        }
        if (layers <= 0 || kvHeads <= 0 || headDim <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("bad KV cache shape: layers " + layers + ", kv heads " + kvHeads
                    + ", head dim " + headDim + ", capacity " + capacity);
        }
        long padded = ((long) capacity + KEY_TILE - 1) / KEY_TILE * KEY_TILE;
        long perLayer = (long) kvHeads * padded * headDim;
        if (perLayer > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache layer too large: " + kvHeads + " x " + capacity + " x " + headDim);
        }
        this.layers = layers;
        this.firstLayer = firstLayer;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.paddedCapacity = (int) padded;
        this.type = type;
        if (type == Type.F32) {
            k32 = new float[layers][];
            v32 = new float[layers][];
            for (int l = 0; l < layers; l++) {
                k32[l] = new float[l < firstLayer ? 0 : (int) perLayer];
                v32[l] = new float[l < firstLayer ? 0 : (int) perLayer];
            }
            k16 = v16 = null;
        } else {
            k16 = new short[layers][];
            v16 = new short[layers][];
            for (int l = 0; l < layers; l++) {
                k16[l] = new short[l < firstLayer ? 0 : (int) perLayer];
                v16[l] = new short[l < firstLayer ? 0 : (int) perLayer];
            }
            k32 = v32 = null;
        }
    }

    public int layers() { return layers; }
    /** The first layer this cache holds (0 unless the layers below it are kept elsewhere). */
    public int firstLayer() { return firstLayer; }
    public int kvHeads() { return kvHeads; }
    public int headDim() { return headDim; }
    public int capacity() { return capacity; }
    public Type type() { return type; }

    /** Bytes reserved for keys and values. */
    public long byteSize() {
        return 2L * (layers - firstLayer) * kvHeads * paddedCapacity * headDim * (type == Type.F32 ? 4 : 2);
    }

    /** Index of element 0 of the value row of (head, pos) inside a layer's value array. */
    public int valueIndex(int head, int pos) {
        return (head * paddedCapacity + pos) * headDim;
    }

    /**
     * Index of the key tile holding {@code pos} for {@code head} inside a layer's key array: key
     * element {@code d} of {@code pos} is at {@code keyTileIndex(head, pos) + d * KEY_TILE + pos % KEY_TILE}.
     */
    public int keyTileIndex(int head, int pos) {
        return (head * paddedCapacity + pos / KEY_TILE * KEY_TILE) * headDim;
    }

    private int keyIndex(int head, int pos, int d) {
        return keyTileIndex(head, pos) + d * KEY_TILE + pos % KEY_TILE;
    }

    /**
     * Stores the keys and values of every KV head for one position: {@code k[kOff + h*headDim + d]}.
     */
    public void store(int layer, int pos, float[] k, int kOff, float[] v, int vOff) {
        if (pos < 0 || pos >= capacity) throw new IndexOutOfBoundsException("position " + pos + " outside the KV cache of " + capacity);
        for (int h = 0; h < kvHeads; h++) {
            int dst = valueIndex(h, pos);
            int kt = keyIndex(h, pos, 0);
            int src = h * headDim;
            if (type == Type.F32) {
                System.arraycopy(v, vOff + src, v32[layer], dst, headDim);
                float[] kl = k32[layer];
                for (int d = 0; d < headDim; d++) kl[kt + d * KEY_TILE] = k[kOff + src + d];
            } else {
                short[] kl = k16[layer];
                short[] vl = v16[layer];
                for (int d = 0; d < headDim; d++) {
                    kl[kt + d * KEY_TILE] = Float.floatToFloat16(k[kOff + src + d]);
                    vl[dst + d] = Float.floatToFloat16(v[vOff + src + d]);
                }
            }
        }
    }

    /** Layer keys as F32 ({@link Type#F32} only), in tiles (see the class comment). */
    public float[] keysF32(int layer) { return k32[layer]; }
    /** Layer values as F32 ({@link Type#F32} only), {@code [kvHead][pos][headDim]}. */
    public float[] valuesF32(int layer) { return v32[layer]; }
    /** Layer keys as F16 bits ({@link Type#F16} only), in tiles. */
    public short[] keysF16(int layer) { return k16[layer]; }
    /** Layer values as F16 bits ({@link Type#F16} only). */
    public short[] valuesF16(int layer) { return v16[layer]; }

    /** Key element as float, whatever the storage type (for reference code and tests). */
    public float key(int layer, int head, int pos, int d) {
        int i = keyIndex(head, pos, d);
        return type == Type.F32 ? k32[layer][i] : Float.float16ToFloat(k16[layer][i]);
    }

    public float value(int layer, int head, int pos, int d) {
        int i = valueIndex(head, pos) + d;
        return type == Type.F32 ? v32[layer][i] : Float.float16ToFloat(v16[layer][i]);
    }
}

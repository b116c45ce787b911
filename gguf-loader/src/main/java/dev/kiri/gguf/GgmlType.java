package dev.kiri.gguf;

/**
 * Every tensor element type of current ggml, with its block geometry.
 *
 * <p>A quantized tensor row of {@code n} elements is stored as {@code n / blockSize()} blocks of
 * {@code bytesPerBlock()} bytes each; plain types have a block size of one element. Ids that ggml
 * has retired (Q4_2, Q4_3, the Q4_0_4_4 family, the IQ4_NL_4_4 family) are known by id so that a
 * file carrying them gets a precise message, but they are never {@link #isUsable() usable}.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q4_2_REMOVED(4, 0, 0),
    Q4_3_REMOVED(5, 0, 0),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    Q4_0_4_4_REMOVED(31, 0, 0),
    Q4_0_4_8_REMOVED(32, 0, 0),
    Q4_0_8_8_REMOVED(33, 0, 0),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    IQ4_NL_4_4_REMOVED(36, 0, 0),
    IQ4_NL_4_8_REMOVED(37, 0, 0),
    IQ4_NL_8_8_REMOVED(38, 0, 0),
    MXFP4(39, 32, 17);

    private static final GgmlType[] BY_ID;

    static {
        int max = 0;
        for (GgmlType t : values()) max = Math.max(max, t.id);
        BY_ID = new GgmlType[max + 1];
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** The numeric id stored in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int bytesPerBlock() {
        return bytesPerBlock;
    }

    /** False for ids that ggml has retired; such tensors cannot be loaded. */
    public boolean isUsable() {
        return blockSize > 0;
    }

    /** True for the block-quantized types (block size above one). */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** The type with this id, or {@code null} if the id is not a ggml type. */
    public static GgmlType byIdOrNull(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /**
     * Bytes taken by {@code elements} elements of this type.
     *
     * @throws IllegalArgumentException if {@code elements} is not a whole number of blocks
     * @throws ArithmeticException      on overflow
     */
    public long byteSize(long elements) {
        if (!isUsable()) throw new IllegalArgumentException(name() + " is a retired ggml type");
        if (elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a whole number of " + name()
                    + " blocks of " + blockSize);
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** The name as ggml and llama.cpp print it (without our "_REMOVED" suffix). */
    public String ggmlName() {
        String n = name();
        return n.endsWith("_REMOVED") ? n.substring(0, n.length() - "_REMOVED".length()) : n;
    }
}

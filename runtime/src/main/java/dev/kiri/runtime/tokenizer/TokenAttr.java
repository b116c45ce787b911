package dev.kiri.runtime.tokenizer;

/**
 * Token attribute bits, as llama.cpp keeps them per token. A token's GGUF type
 * ({@code tokenizer.ggml.token_type}) becomes one of the first bits; loading may add
 * {@link #CONTROL} (an end-of-generation token stored as normal) and the strip bits.
 */
public final class TokenAttr {
    private TokenAttr() {
    }

    public static final int UNDEFINED = 0;
    public static final int UNKNOWN = 1;
    public static final int UNUSED = 1 << 1;
    public static final int NORMAL = 1 << 2;
    public static final int CONTROL = 1 << 3;
    public static final int USER_DEFINED = 1 << 4;
    public static final int BYTE = 1 << 5;
    /** Spaces before the token are dropped when it is matched in text. */
    public static final int LSTRIP = 1 << 7;
    /** Spaces after the token are dropped when it is matched in text. */
    public static final int RSTRIP = 1 << 8;

    /** GGUF token type values ({@code tokenizer.ggml.token_type}). */
    static final int TYPE_UNDEFINED = 0;
    static final int TYPE_NORMAL = 1;
    static final int TYPE_UNKNOWN = 2;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;
    static final int TYPE_UNUSED = 5;
    static final int TYPE_BYTE = 6;

    /** The attribute bit of a GGUF token type; values outside 0..6 are {@link #UNDEFINED}. */
    static int fromType(int type) {
        return switch (type) {
            case TYPE_NORMAL -> NORMAL;
            case TYPE_UNKNOWN -> UNKNOWN;
            case TYPE_CONTROL -> CONTROL;
            case TYPE_USER_DEFINED -> USER_DEFINED;
            case TYPE_UNUSED -> UNUSED;
            case TYPE_BYTE -> BYTE;
            default -> UNDEFINED;
        };
    }
}

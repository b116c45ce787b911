package dev.kiri.gguf;

import java.io.IOException;

/**
 * A GGUF file (or archive holding one) is malformed. The message names the file and what is
 * wrong with it: the key, the tensor, or the byte offset.
 */
public final class GgufFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public GgufFormatException(String message) {
        super(message);
    }

    public GgufFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.kiri.runtime;

/**
 * A model file that is valid GGUF but that this runtime cannot run: an unknown architecture, a
 * missing or misshapen tensor, an unsupported metadata value. The message names the file and what
 * is wrong, and for architectures lists the supported ones.
 */
public final class UnsupportedModelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UnsupportedModelException(String message) {
        super(message);
    }
}

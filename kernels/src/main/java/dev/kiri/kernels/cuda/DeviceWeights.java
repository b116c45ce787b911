package dev.kiri.kernels.cuda;

import dev.kiri.gguf.GgmlType;

/**
 * A weight matrix uploaded as stored in the GGUF file (same blocks, same bytes), row-major with
 * {@code rowBytes} between rows.
 *
 * @param name     the tensor's name, for messages
 * @param type     its GGML type
 * @param buffer   the device bytes
 * @param rows     output dimension
 * @param cols     input dimension
 * @param rowBytes bytes per row
 */
public record DeviceWeights(String name, GgmlType type, DeviceBuffer buffer, int rows, int cols, long rowBytes)
        implements AutoCloseable {
    /** Frees the device bytes. */
    @Override
    public void close() {
        buffer.close();
    }
}

package dev.kiri.runtime.model;

/**
 * A forward pass over a {@link State}: the CPU {@link Decoder}, or a GPU decoder that runs some or
 * all blocks on the device. One instance serves one sequence, used by one thread at a time.
 */
public interface Forward extends AutoCloseable {
    /**
     * Runs {@code tokens[off .. off+n)} at the state's next positions and advances it by n.
     *
     * @param allLogits null: only the last token's logits, into {@link State#logits()}; otherwise
     *                  every token's logits, {@code [n][vocab]} from index 0
     * @throws IllegalArgumentException            if a token id is out of range or n exceeds the state's batch
     * @throws dev.kiri.runtime.ContextFullException if the tokens do not fit in the state's KV cache
     */
    void forward(State s, int[] tokens, int off, int n, float[] allLogits);

    /** Frees what this forward pass holds of its own (device memory, graphs); nothing by default. */
    @Override
    default void close() {
    }
}

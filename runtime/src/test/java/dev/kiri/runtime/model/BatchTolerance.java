package dev.kiri.runtime.model;

/** The tolerance of the GPU's batched (prompt) logits, given the token-by-token one. */
final class BatchTolerance {
    private BatchTolerance() {
    }

    static double of(double tokenByToken) {
        return tokenByToken;
    }
}

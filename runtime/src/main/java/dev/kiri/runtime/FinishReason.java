package dev.kiri.runtime;

/** Why a generation ended. */
public enum FinishReason {
    /** {@link GenerateOptions#maxTokens} tokens were generated. */
    MAX_TOKENS,
    /** The model produced an end-of-generation token (EOS, EOT, ...); it is not part of the text. */
    END_OF_GENERATION,
    /** A stop string appeared; neither it nor anything after it is part of the text. */
    STOP_STRING,
    /** The {@link Cancellation} was cancelled. */
    CANCELLED,
    /** The KV cache is full: the context length in use was reached. */
    CONTEXT_FULL
}

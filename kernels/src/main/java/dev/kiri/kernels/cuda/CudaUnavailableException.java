package dev.kiri.kernels.cuda;

/**
 * CUDA was asked for but cannot be used here: no driver library, no device, a driver too old for
 * the kernels, or CUDA disabled by a property. The message says which.
 */
public final class CudaUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param reason why CUDA cannot be used, as {@link CudaProbe.Availability#reason()} states it */
    public CudaUnavailableException(String reason) {
        super("CUDA is not available: " + reason);
    }
}

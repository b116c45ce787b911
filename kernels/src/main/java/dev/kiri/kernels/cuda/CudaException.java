package dev.kiri.kernels.cuda;

/**
 * A CUDA driver call returned an error. The message names the call, what it was doing, and the
 * driver's own name and description of the error ({@code cuGetErrorName}, {@code cuGetErrorString}),
 * e.g. {@code cuMemAlloc_v2 (attention scratch, 4194304 bytes): CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int result;
    private final String errorName;

    /**
     * @param result    the {@code CUresult} code, or -1 when the error did not come from a driver call
     * @param errorName the driver's name for the code, e.g. {@code CUDA_ERROR_INVALID_VALUE}
     * @param message   the whole message
     */
    public CudaException(int result, String errorName, String message) {
        super(message);
        this.result = result;
        this.errorName = errorName;
    }

    /** The {@code CUresult} code of the failed call (-1 when there was none). */
    public int result() {
        return result;
    }

    /** The driver's name of the error, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}

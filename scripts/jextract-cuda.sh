#!/bin/sh
# Regenerates the CUDA driver API bindings in
# kernels/src/main/java/dev/kiri/kernels/cuda/bindings from the toolkit's cuda.h.
#
# usage: scripts/jextract-cuda.sh JEXTRACT [CUDA_INCLUDE_DIR]
#   JEXTRACT          the jextract launcher (see docs/CUDA.md for how it was built)
#   CUDA_INCLUDE_DIR  folder holding cuda.h (default /usr/local/cuda/include)
#
# Only the functions, constants and typedefs listed below are generated. cuda.h maps many
# API names to versioned symbols with #define (cuMemAlloc -> cuMemAlloc_v2, ...), so the
# lists name the versioned symbols, which is what libcuda.so.1 exports.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 JEXTRACT [CUDA_INCLUDE_DIR]" >&2
    exit 2
fi
JEXTRACT=$1
CUDA_INC=${2:-/usr/local/cuda/include}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/kernels/src/main/java
PKG=dev.kiri.kernels.cuda.bindings

[ -f "$CUDA_INC/cuda.h" ] || { echo "no cuda.h in $CUDA_INC" >&2; exit 1; }

FUNCTIONS="
cuInit cuDriverGetVersion
cuDeviceGet cuDeviceGetCount cuDeviceGetName cuDeviceGetAttribute cuDeviceTotalMem_v2
cuDevicePrimaryCtxRetain cuDevicePrimaryCtxRelease_v2 cuCtxSetCurrent cuCtxGetCurrent cuCtxSynchronize
cuMemAlloc_v2 cuMemFree_v2 cuMemGetInfo_v2
cuMemcpyHtoD_v2 cuMemcpyDtoH_v2 cuMemcpyDtoD_v2
cuMemcpyHtoDAsync_v2 cuMemcpyDtoHAsync_v2 cuMemcpyDtoDAsync_v2
cuMemsetD8_v2 cuMemsetD32Async
cuMemHostRegister_v2 cuMemHostUnregister
cuModuleLoadData cuModuleLoadDataEx cuModuleUnload cuModuleGetFunction cuFuncSetAttribute
cuLaunchKernel
cuStreamCreate cuStreamDestroy_v2 cuStreamSynchronize
cuStreamBeginCapture_v2 cuStreamEndCapture
cuGraphInstantiateWithFlags cuGraphLaunch cuGraphExecDestroy cuGraphDestroy
cuEventCreate cuEventRecord cuEventSynchronize cuEventElapsedTime_v2 cuEventDestroy_v2
cuGetErrorName cuGetErrorString
"

CONSTANTS="
CUDA_VERSION
CUDA_SUCCESS CUDA_ERROR_NO_DEVICE CUDA_ERROR_NOT_INITIALIZED CUDA_ERROR_OUT_OF_MEMORY
CUDA_ERROR_INSUFFICIENT_DRIVER CUDA_ERROR_UNSUPPORTED_PTX_VERSION CUDA_ERROR_INVALID_PTX
CUDA_ERROR_NO_BINARY_FOR_GPU
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK
CU_DEVICE_ATTRIBUTE_WARP_SIZE CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK
CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE
CU_DEVICE_ATTRIBUTE_CLOCK_RATE CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE
CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH
CU_STREAM_DEFAULT CU_STREAM_NON_BLOCKING
CU_STREAM_CAPTURE_MODE_GLOBAL CU_STREAM_CAPTURE_MODE_THREAD_LOCAL CU_STREAM_CAPTURE_MODE_RELAXED
CU_MEMHOSTREGISTER_PORTABLE
CU_EVENT_DEFAULT CU_EVENT_BLOCKING_SYNC
CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
CU_JIT_ERROR_LOG_BUFFER CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES
CU_JIT_INFO_LOG_BUFFER CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES
"

TYPEDEFS="
CUresult CUdevice CUdeviceptr CUcontext CUmodule CUfunction CUstream CUgraph CUgraphExec CUevent
"

set -- --target-package "$PKG" --output "$OUT" --library :libcuda.so.1 --header-class-name CudaDriver -I "$CUDA_INC"
for f in $FUNCTIONS; do set -- "$@" --include-function "$f"; done
for c in $CONSTANTS; do set -- "$@" --include-constant "$c"; done
for t in $TYPEDEFS; do set -- "$@" --include-typedef "$t"; done

rm -rf "$OUT/dev/kiri/kernels/cuda/bindings"
"$JEXTRACT" "$@" "$CUDA_INC/cuda.h"
echo "generated into $OUT/dev/kiri/kernels/cuda/bindings:"
ls "$OUT/dev/kiri/kernels/cuda/bindings"

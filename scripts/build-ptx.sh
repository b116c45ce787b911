#!/bin/sh
# Compiles the CUDA C kernels (kernels/src/main/cuda/*.cu) to the PTX committed under
# kernels/src/main/resources/dev/kiri/kernels/cuda/. Needs nvcc (CUDA toolkit 13); users of
# Kiri need only the NVIDIA driver, which JIT-compiles the PTX for their GPU.
#
# usage: scripts/build-ptx.sh [OUTPUT_DIR]   (default: the resources folder above)
# The command per file, the one to quote when regenerating by hand:
#   nvcc -ptx -arch=compute_80 -o OUT/NAME.ptx kernels/src/main/cuda/NAME.cu
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NVCC=${NVCC:-nvcc}
OUT=${1:-$ROOT/kernels/src/main/resources/dev/kiri/kernels/cuda}
mkdir -p "$OUT"
cd "$ROOT/kernels/src/main/cuda"
for src in *.cu; do
    name=${src%.cu}
    "$NVCC" -ptx -arch=compute_80 -o "$OUT/$name.ptx" "$src"
done

#!/bin/sh
# Compiles the CUDA C kernels (kernels/src/main/cuda/*.cu) to the PTX committed under
# kernels/src/main/resources/dev/kiri/kernels/cuda/. Needs nvcc (CUDA toolkit 13); users of
# Kiri need only the NVIDIA driver, which JIT-compiles the PTX for their GPU.
#
# usage: scripts/build-ptx.sh [OUTPUT_DIR]   (default: the resources folder above)
# Per file:
#   nvcc -ptx -arch=compute_80 -o OUT/NAME.ptx kernels/src/main/cuda/NAME.cu
#   then the `.version` line set to PTX_ISA, and ptxas -arch=sm_80 run on the result.
# nvcc 13 always declares PTX ISA 9.0, which only CUDA 13 drivers load, whatever the code needs.
# The kernels use nothing newer than ISA 7.0 (TF32 WMMA), so the PTX declares 8.0 (CUDA 12.0
# drivers, R525+); ptxas refuses any instruction the declared version lacks ("Feature ... requires
# PTX ISA .version X or later"), which is what makes the lower version honest.
# PtxUpToDateTest runs this script and compares its output with the committed files.
set -eu
PTX_ISA=8.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NVCC=${NVCC:-nvcc}
PTXAS=${PTXAS:-$(d=$(dirname "$(command -v "$NVCC")"); if [ -x "$d/ptxas" ]; then echo "$d/ptxas"; else echo ptxas; fi)}
OUT=${1:-$ROOT/kernels/src/main/resources/dev/kiri/kernels/cuda}
mkdir -p "$OUT"
cd "$ROOT/kernels/src/main/cuda"
for src in *.cu; do
    name=${src%.cu}
    "$NVCC" -ptx -arch=compute_80 -o "$OUT/$name.ptx.nvcc" "$src"
    sed "s/^\.version [0-9][0-9.]*\$/.version $PTX_ISA/" "$OUT/$name.ptx.nvcc" > "$OUT/$name.ptx"
    rm -f "$OUT/$name.ptx.nvcc"
    grep -q "^\.version $PTX_ISA\$" "$OUT/$name.ptx" || { echo "build-ptx: no .version line in $name.ptx" >&2; exit 1; }
    "$PTXAS" -arch=sm_80 -o /dev/null "$OUT/$name.ptx"
done

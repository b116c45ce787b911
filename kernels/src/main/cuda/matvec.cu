// Matrix-vector (and column-batched matrix) products over GGUF weights as stored.
//
// y[i*rows + r] = sum_c W[r][c] * x[i*cols + c] for r < rows, i < gridDim.y.
// One warp per row, KIRI_MV_WARPS warps per block: launch with blockDim.x = 32 * KIRI_MV_WARPS,
// gridDim.x = ceil(rows / KIRI_MV_WARPS), gridDim.y = number of activation columns.
// rowBytes is the byte stride between weight rows (cols / block values * block bytes for a
// whole tensor). Activations and results are F32. Sums run in F32 per lane, then across the warp.
#include "common.cuh"

#define KIRI_MV_WARPS 4

#define KIRI_MV_PROLOGUE                                                      \
    int lane = threadIdx.x % KIRI_WARP;                                       \
    int r = blockIdx.x * KIRI_MV_WARPS + threadIdx.x / KIRI_WARP;             \
    if (r >= rows) return;                                                    \
    const unsigned char* row = W + (long long) r * rowBytes;                  \
    const float* xs = x + (long long) blockIdx.y * cols;                      \
    float acc = 0.0f;

#define KIRI_MV_EPILOGUE                                                      \
    acc = kiri_warp_sum(acc);                                                 \
    if (lane == 0) y[(long long) blockIdx.y * rows + r] = acc;

extern "C" __global__ void kiri_matvec_f32(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    const float* w = (const float*) row;
    for (int c = lane; c < cols; c += KIRI_WARP) acc += w[c] * xs[c];
    KIRI_MV_EPILOGUE
}

extern "C" __global__ void kiri_matvec_f16(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    const unsigned short* w = (const unsigned short*) row;
    for (int c = lane; c < cols; c += KIRI_WARP) acc += kiri_f16(w[c]) * xs[c];
    KIRI_MV_EPILOGUE
}

extern "C" __global__ void kiri_matvec_bf16(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    const unsigned short* w = (const unsigned short*) row;
    for (int c = lane; c < cols; c += KIRI_WARP) acc += kiri_bf16(w[c]) * xs[c];
    KIRI_MV_EPILOGUE
}

// Q8_0: one lane per 32-value block (34 bytes: f16 scale, 32 signed bytes).
extern "C" __global__ void kiri_matvec_q8_0(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    int nb = cols / 32;
    for (int b = lane; b < nb; b += KIRI_WARP) {
        const unsigned char* blk = row + b * KIRI_Q8_0_BYTES;
        const signed char* q = (const signed char*) (blk + 2);
        const float* xb = xs + b * 32;
        float s = 0.0f;
#pragma unroll
        for (int l = 0; l < 32; l++) s += (float) q[l] * xb[l];
        acc += kiri_f16(kiri_u16(blk)) * s;
    }
    KIRI_MV_EPILOGUE
}

// Q4_0: one lane per 32-value block (18 bytes: f16 scale, 16 bytes of nibbles, value-8).
extern "C" __global__ void kiri_matvec_q4_0(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    int nb = cols / 32;
    for (int b = lane; b < nb; b += KIRI_WARP) {
        const unsigned char* blk = row + b * KIRI_Q4_0_BYTES;
        const unsigned char* q = blk + 2;
        const float* xb = xs + b * 32;
        float s = 0.0f;
#pragma unroll
        for (int l = 0; l < 16; l++) {
            s += (float) ((q[l] & 0xF) - 8) * xb[l];
            s += (float) ((q[l] >> 4) - 8) * xb[l + 16];
        }
        acc += kiri_f16(kiri_u16(blk)) * s;
    }
    KIRI_MV_EPILOGUE
}

// Q4_K: one lane per 32-value sub-block; value = d*sc*q - dmin*m, so the sub-block contributes
// d*sc*sum(q*x) - dmin*m*sum(x).
extern "C" __global__ void kiri_matvec_q4_k(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    int nsub = cols / 32;
    for (int s = lane; s < nsub; s += KIRI_WARP) {
        const unsigned char* blk = row + (s / 8) * KIRI_Q4_K_BYTES;
        int j = s % 8;
        float d = kiri_f16(kiri_u16(blk));
        float dmin = kiri_f16(kiri_u16(blk + 2));
        float sc, m;
        kiri_scale_min_k4(j, blk + 4, &sc, &m);
        const unsigned char* q = blk + 16 + (j / 2) * 32;
        int shift = (j & 1) * 4;
        const float* xb = xs + s * 32;
        float qx = 0.0f, sx = 0.0f;
#pragma unroll
        for (int l = 0; l < 32; l++) {
            qx += (float) ((q[l] >> shift) & 0xF) * xb[l];
            sx += xb[l];
        }
        acc += d * sc * qx - dmin * m * sx;
    }
    KIRI_MV_EPILOGUE
}

// Q6_K: one lane per 32-value sub-block (two 16-value scales each).
extern "C" __global__ void kiri_matvec_q6_k(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {
    KIRI_MV_PROLOGUE
    int nsub = cols / 32;
    for (int s = lane; s < nsub; s += KIRI_WARP) {
        const unsigned char* blk = row + (s / 8) * KIRI_Q6_K_BYTES;
        int j = s % 8;
        int half = j / 4;
        int quarter = j % 4;
        const unsigned char* ql = blk + half * 64 + (quarter & 1) * 32;
        const unsigned char* qh = blk + 128 + half * 32;
        const signed char* scales = (const signed char*) (blk + 192) + half * 8 + quarter * 2;
        int lowShift = (quarter >> 1) * 4;
        int highShift = 2 * quarter;
        float d = kiri_f16(kiri_u16(blk + 208));
        const float* xb = xs + s * 32;
        float s0 = 0.0f, s1 = 0.0f;
#pragma unroll
        for (int l = 0; l < 16; l++) {
            int q = (((ql[l] >> lowShift) & 0xF) | (((qh[l] >> highShift) & 3) << 4)) - 32;
            s0 += (float) q * xb[l];
        }
#pragma unroll
        for (int l = 16; l < 32; l++) {
            int q = (((ql[l] >> lowShift) & 0xF) | (((qh[l] >> highShift) & 3) << 4)) - 32;
            s1 += (float) q * xb[l];
        }
        acc += d * ((float) scales[0] * s0 + (float) scales[1] * s1);
    }
    KIRI_MV_EPILOGUE
}

// Embedding lookup: out[i*cols + c] = dequantized W[ids[i]][c] for i < gridDim.y.
// Token ids come from device memory so that a captured graph can be replayed for new tokens.
// Ids outside [0, rows) write NaN rather than read out of bounds.
extern "C" __global__ void kiri_get_rows(const unsigned char* __restrict__ W, long long rowBytes, int type,
        const int* __restrict__ ids, float* __restrict__ out, int rows, int cols) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    int id = ids[blockIdx.y];
    float v = (id >= 0 && id < rows) ? kiri_value(type, W + (long long) id * rowBytes, c)
                                     : __int_as_float(0x7fc00000);
    out[(long long) blockIdx.y * cols + c] = v;
}

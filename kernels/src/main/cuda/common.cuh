// Shared helpers of the Kiri CUDA kernels: half-precision conversion without cuda_fp16.h,
// warp reductions and the GGUF block layouts the kernels read in place.
#pragma once

#define KIRI_WARP 32

#ifndef KIRI_HOST_EMULATION
static __device__ __forceinline__ float kiri_f16(unsigned short bits) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(bits));
    return f;
}

static __device__ __forceinline__ unsigned short kiri_to_f16(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
#else
// The CPU emulation of the tests (kernels/src/test/cuda-host): the same conversions in C++.
static inline float kiri_f16(unsigned short bits) {
    _Float16 h;
    memcpy(&h, &bits, 2);
    return (float) h;
}

static inline unsigned short kiri_to_f16(float f) {
    _Float16 h = (_Float16) f;
    unsigned short bits;
    memcpy(&bits, &h, 2);
    return bits;
}
#endif

static __device__ __forceinline__ float kiri_bf16(unsigned short bits) {
    return __int_as_float(((int) bits) << 16);
}

// Loads of a given width need an address aligned to it: the GPU faults on a misaligned one. The
// CPU emulation checks that (KIRI_ALIGNED aborts naming the line), so that a wrong offset shows
// in the tests that run without a GPU.
#ifndef KIRI_HOST_EMULATION
#define KIRI_ALIGNED(p, n)
#else
#define KIRI_ALIGNED(p, n) kiri_check_aligned(p, n, __FILE__, __LINE__)
static inline void kiri_check_aligned(const void* p, unsigned long long n, const char* file, int line) {
    if ((reinterpret_cast<unsigned long long>(p) & (n - 1)) != 0) {
        fprintf(stderr, "%s:%d: %llu-byte load from misaligned address %p\n", file, line, n, p);
        abort();
    }
}
#endif

// The kernel's dynamic shared memory as a float array (sized by the launch). The CPU emulation runs
// one block at a time and gives every kernel the same static 128 KiB.
#ifndef KIRI_HOST_EMULATION
#define KIRI_DYNAMIC_SHARED(name) extern __shared__ __align__(128) float name[]
#else
alignas(128) static float kiri_dynamic_shared[32768];
#define KIRI_DYNAMIC_SHARED(name) float* name = kiri_dynamic_shared
#endif

// Little-endian 16-bit load from a 2-byte aligned address.
static __device__ __forceinline__ unsigned short kiri_u16(const unsigned char* p) {
    KIRI_ALIGNED(p, 2);
    return *(const unsigned short*) p;
}

// Four bytes from a 2-byte aligned address (two 16-bit loads), little-endian.
static __device__ __forceinline__ unsigned kiri_u16x2(const unsigned char* p) {
    return (unsigned) kiri_u16(p) | ((unsigned) kiri_u16(p + 2) << 16);
}

static __device__ __forceinline__ unsigned kiri_u32(const unsigned char* p) {
    KIRI_ALIGNED(p, 4);
    return *(const unsigned*) p;
}

static __device__ __forceinline__ uint2 kiri_u32x2(const unsigned char* p) {
    KIRI_ALIGNED(p, 8);
    return *(const uint2*) p;
}

static __device__ __forceinline__ uint4 kiri_u32x4(const unsigned char* p) {
    KIRI_ALIGNED(p, 16);
    return *(const uint4*) p;
}

static __device__ __forceinline__ float4 kiri_f32x4(const float* p) {
    KIRI_ALIGNED(p, 16);
    return *(const float4*) p;
}

static __device__ __forceinline__ float kiri_warp_sum(float v) {
    for (int o = KIRI_WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static __device__ __forceinline__ float kiri_warp_max(float v) {
    for (int o = KIRI_WARP / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum for blockDim.x a multiple of 32, at most 1024; every thread gets the result.
static __device__ __forceinline__ float kiri_block_sum(float v, float* scratch /* >= 32 floats */) {
    int lane = threadIdx.x % KIRI_WARP;
    int warp = threadIdx.x / KIRI_WARP;
    v = kiri_warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int warps = blockDim.x / KIRI_WARP;
    v = lane < warps ? scratch[lane] : 0.0f;
    return kiri_warp_sum(v);
}

// GGUF block sizes in bytes (values per block: 32 for Q8_0/Q4_0, 256 for the K-quants).
#define KIRI_Q8_0_BYTES 34
#define KIRI_Q4_0_BYTES 18
#define KIRI_Q4_K_BYTES 144
#define KIRI_Q6_K_BYTES 210

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block from its 12 scale bytes.
static __device__ __forceinline__ void kiri_scale_min_k4(int j, const unsigned char* q, float* sc, float* m) {
    if (j < 4) {
        *sc = (float) (q[j] & 63);
        *m = (float) (q[j + 4] & 63);
    } else {
        *sc = (float) ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (float) ((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Dequantizes value i (0..255 within the block) of a Q4_K block.
static __device__ __forceinline__ float kiri_q4_k_value(const unsigned char* b, int i) {
    float d = kiri_f16(kiri_u16(b));
    float dmin = kiri_f16(kiri_u16(b + 2));
    int j = i / 32;          // sub-block
    int l = i % 32;
    float sc, m;
    kiri_scale_min_k4(j, b + 4, &sc, &m);
    unsigned char q = b[16 + (j / 2) * 32 + l];
    int nib = (j & 1) ? (q >> 4) : (q & 0xF);
    return d * sc * (float) nib - dmin * m;
}

// Dequantizes value i (0..255 within the block) of a Q6_K block.
static __device__ __forceinline__ float kiri_q6_k_value(const unsigned char* b, int i) {
    const unsigned char* ql = b;
    const unsigned char* qh = b + 128;
    const signed char* scales = (const signed char*) (b + 192);
    float d = kiri_f16(kiri_u16(b + 208));
    int half = i / 128;
    int r = i % 128;
    int quarter = r / 32;
    int l = r % 32;
    unsigned char lo = ql[half * 64 + l + (quarter & 1) * 32];
    int low = (quarter < 2) ? (lo & 0xF) : (lo >> 4);
    int high = (qh[half * 32 + l] >> (2 * quarter)) & 3;
    int q = (low | (high << 4)) - 32;
    return d * (float) scales[half * 8 + quarter * 2 + l / 16] * (float) q;
}

// Dequantizes element c of a row of the given GGUF type (ggml type ids: F32 0, F16 1, Q4_0 2,
// Q8_0 8, Q4_K 12, Q6_K 14, BF16 30).
static __device__ __forceinline__ float kiri_value(int type, const unsigned char* row, int c) {
    switch (type) {
        case 0: return ((const float*) row)[c];
        case 1: return kiri_f16(((const unsigned short*) row)[c]);
        case 30: return kiri_bf16(((const unsigned short*) row)[c]);
        case 8: {
            const unsigned char* b = row + (c / 32) * KIRI_Q8_0_BYTES;
            return kiri_f16(kiri_u16(b)) * (float) ((const signed char*) b)[2 + c % 32];
        }
        case 2: {
            const unsigned char* b = row + (c / 32) * KIRI_Q4_0_BYTES;
            int j = c % 32;
            unsigned char q = b[2 + (j % 16)];
            int nib = j < 16 ? (q & 0xF) : (q >> 4);
            return kiri_f16(kiri_u16(b)) * (float) (nib - 8);
        }
        case 12: return kiri_q4_k_value(row + (c / 256) * KIRI_Q4_K_BYTES, c % 256);
        case 14: return kiri_q6_k_value(row + (c / 256) * KIRI_Q6_K_BYTES, c % 256);
        default: return __int_as_float(0x7fc00000); // NaN: an unsupported type shows in the tests
    }
}

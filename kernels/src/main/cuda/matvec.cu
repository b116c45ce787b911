// Matrix-vector (and column-batched matrix) products over GGUF weights as stored.
//
// y[i*rows + r] = sum_c W[r][c] * x[i*cols + c] for r < rows, i < gridDim.y.
// rowBytes is the byte stride between weight rows (cols / block values * block bytes for a
// whole tensor). Activations, products and sums are F32.
//
// Launch: gridDim.x = ceil(rows / KIRI_MV_ROWS), gridDim.y = number of activation columns,
// blockDim.x = 32 * warps with 1 <= warps <= KIRI_MV_MAX_WARPS (CudaKernels picks it from the
// number of lane steps in a row). Each block computes KIRI_MV_ROWS consecutive rows (the last
// block clamps its row index and stores only the rows that exist); all its threads walk the
// row together, thread t taking lane steps t, t + blockDim.x, ... A lane step ("unit") is a
// fixed slice of a block of the weight type: consecutive threads read consecutive bytes, so a
// warp's loads cover a contiguous stretch of each row. Each thread keeps the activations of its
// unit in registers and uses them for all KIRI_MV_ROWS rows. Per-thread sums are reduced across
// the warp with shuffles, then across the block's warps through shared memory.
//
// Integers become floats without conversion instructions: a byte n placed under the exponent
// bits 0x4B000000 (one byte permute) is the float 2^23 + n, and subtracting 2^23 plus the
// type's offset (8 for Q4_0, 128 for the sign-flipped Q8_0 bytes, 32 for Q6_K) is exact.
#include "common.cuh"

#define KIRI_MV_ROWS 4   // kiri_mv_store's shuffles assume 4
#define KIRI_MV_MAX_WARPS 8

// 2^23 + byte k of w (w's bytes must be below 256, k a constant or a lane constant).
static __device__ __forceinline__ float kiri_mag(unsigned w, int k) {
    return __int_as_float((int) __byte_perm(w, 0x4B000000u, 0x7440u + k));
}

#define KIRI_2P23 8388608.0f

// Four activations; VX: the address is 16-byte aligned (one vector load), else four loads.
template <bool VX>
static __device__ __forceinline__ void kiri_x4(const float* p, float* v) {
    if (VX) {
        float4 f = kiri_f32x4(p);
        v[0] = f.x;
        v[1] = f.y;
        v[2] = f.z;
        v[3] = f.w;
    } else {
        v[0] = p[0];
        v[1] = p[1];
        v[2] = p[2];
        v[3] = p[3];
    }
}

// Σ_i (byte i of w, as 2^23 + n, minus off) * x[i] over the 4 bytes of w, then added to s.
static __device__ __forceinline__ float kiri_dot4(unsigned w, float off, const float* x, float s) {
    s = fmaf(kiri_mag(w, 0) - off, x[0], s);
    s = fmaf(kiri_mag(w, 1) - off, x[1], s);
    s = fmaf(kiri_mag(w, 2) - off, x[2], s);
    s = fmaf(kiri_mag(w, 3) - off, x[3], s);
    return s;
}

// Each weight type: VALUES values per unit, UNROLL units a thread loads before it computes,
// X the unit's activations (loaded once per unit), W one row's raw bytes of the unit,
// dot() that row's contribution.

// Q4_0 (18-byte blocks: f16 scale d, 16 bytes of nibbles; value j < 16 is the low nibble of
// byte j, value j + 16 its high nibble; w = d * (nibble - 8)). Four units per block, unit k
// holding bytes 4k..4k+3 (values 4k..4k+3 and 4k+16..4k+19), read as two 16-bit loads (blocks
// are only 2-byte aligned). Eight blocks per warp step.
struct KiriQ4_0 {
    static constexpr int VALUES = 8, UNROLL = 2;
    struct X {
        float v[8];
    };
    struct W {
        unsigned q;
        unsigned short d;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        const float* p = xs + (u >> 2) * 32 + (u & 3) * 4;
        kiri_x4<VX>(p, x.v);
        kiri_x4<VX>(p + 16, x.v + 4);
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        const unsigned char* b = row + (u >> 2) * KIRI_Q4_0_BYTES;
        w.d = kiri_u16(b);
        w.q = kiri_u16x2(b + 2 + (u & 3) * 4);
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int) {
        const float off = KIRI_2P23 + 8.0f;
        float lo = kiri_dot4(w.q & 0x0F0F0F0Fu, off, x.v, 0.0f);
        float hi = kiri_dot4((w.q >> 4) & 0x0F0F0F0Fu, off, x.v + 4, 0.0f);
        return kiri_f16(w.d) * (lo + hi);
    }
};

// Q8_0 (34-byte blocks: f16 scale, 32 signed bytes). Four units per block, unit k holding
// bytes 8k..8k+7 (four 16-bit loads); the bytes are flipped to unsigned (x ^ 0x80 = x + 128).
struct KiriQ8_0 {
    static constexpr int VALUES = 8, UNROLL = 2;
    struct X {
        float v[8];
    };
    struct W {
        unsigned q0, q1;
        unsigned short d;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        kiri_x4<VX>(xs + u * 8, x.v);
        kiri_x4<VX>(xs + u * 8 + 4, x.v + 4);
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        const unsigned char* b = row + (u >> 2) * KIRI_Q8_0_BYTES;
        w.d = kiri_u16(b);
        w.q0 = kiri_u16x2(b + 2 + (u & 3) * 8);
        w.q1 = kiri_u16x2(b + 6 + (u & 3) * 8);
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int) {
        const float off = KIRI_2P23 + 128.0f;
        float a = kiri_dot4(w.q0 ^ 0x80808080u, off, x.v, 0.0f);
        float b = kiri_dot4(w.q1 ^ 0x80808080u, off, x.v + 4, 0.0f);
        return kiri_f16(w.d) * (a + b);
    }
};

// Q4_K (144-byte blocks of 256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for
// the eight 32-value sub-blocks, 128 bytes of nibbles; sub-blocks 2p and 2p+1 are the low and
// high nibbles of bytes 32p..32p+31; w = d * sc * q - dmin * m). Eight units per block, unit
// 2p + t holding bytes 32p + 16t .. +15 (one 16-byte load): values 64p + 16t.. of sub-block 2p
// and 64p + 32 + 16t.. of sub-block 2p + 1. The mins need Σx per sub-block, summed once per unit.
//
// The nibbles are unsigned, so they become floats without the subtraction the other types need:
// the bits of a byte n alone are the subnormal float n * 2^-149, and an FMA with x * 2^90 gives
// n * x * 2^-59 exactly rounded (subnormal operands are exact in fma.rn.f32 without .ftz); the
// row's sums are scaled back through d * 2^59. This keeps full precision for |x| in
// [2^-67, 2^38): the scaled x stays finite and the products stay normal.
#define KIRI_Q4_K_XSCALE 0x1p90f
#define KIRI_Q4_K_DSCALE 0x1p59f

// The subnormal float n * 2^-149 for byte k of w.
static __device__ __forceinline__ float kiri_sub(unsigned w, int k) {
    return __int_as_float((int) __byte_perm(w, 0u, 0x4440u + k));
}

// s + Σ_j (byte j of w) * 2^-149 * x[j]
static __device__ __forceinline__ float kiri_dot4_sub(unsigned w, const float* x, float s) {
    s = fmaf(kiri_sub(w, 0), x[0], s);
    s = fmaf(kiri_sub(w, 1), x[1], s);
    s = fmaf(kiri_sub(w, 2), x[2], s);
    s = fmaf(kiri_sub(w, 3), x[3], s);
    return s;
}

struct KiriQ4_K {
    static constexpr int VALUES = 32, UNROLL = 1;
    struct X {
        float lo[16], hi[16];   // x * 2^90
        float slo, shi;         // Σx of each sub-block's 16 values, unscaled
    };
    struct W {
        uint4 q;
        unsigned dm, s0, s1, s2;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        const float* p = xs + (u >> 3) * 256 + ((u >> 1) & 3) * 64 + (u & 1) * 16;
#pragma unroll
        for (int i = 0; i < 16; i += 4) {
            kiri_x4<VX>(p + i, x.lo + i);
            kiri_x4<VX>(p + 32 + i, x.hi + i);
        }
        float a = 0.0f, b = 0.0f;
#pragma unroll
        for (int i = 0; i < 16; i++) {
            a += x.lo[i];
            b += x.hi[i];
            x.lo[i] *= KIRI_Q4_K_XSCALE;
            x.hi[i] *= KIRI_Q4_K_XSCALE;
        }
        x.slo = a;
        x.shi = b;
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        const unsigned char* b = row + (u >> 3) * KIRI_Q4_K_BYTES;
        w.dm = kiri_u32(b);
        w.s0 = kiri_u32(b + 4);
        w.s1 = kiri_u32(b + 8);
        w.s2 = kiri_u32(b + 12);
        w.q = kiri_u32x4(b + 16 + (u & 7) * 16);
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int u) {
        // Scales and mins of sub-blocks 2p, 2p+1: bytes 2(p&1), 2(p&1)+1 of these words.
        const int p = (u >> 1) & 3;
        const bool first = p < 2;
        unsigned sc = first ? (w.s0 & 0x3F3F3F3Fu) : ((w.s2 & 0x0F0F0F0Fu) | ((w.s0 >> 2) & 0x30303030u));
        unsigned mn = first ? (w.s1 & 0x3F3F3F3Fu) : (((w.s2 >> 4) & 0x0F0F0F0Fu) | ((w.s1 >> 2) & 0x30303030u));
        const int k = (p & 1) * 2;
        float sc0 = kiri_mag(sc, k) - KIRI_2P23, sc1 = kiri_mag(sc, k + 1) - KIRI_2P23;
        float m0 = kiri_mag(mn, k) - KIRI_2P23, m1 = kiri_mag(mn, k + 1) - KIRI_2P23;
        float d = kiri_f16((unsigned short) (w.dm & 0xFFFFu)) * KIRI_Q4_K_DSCALE;
        float dmin = kiri_f16((unsigned short) (w.dm >> 16));
        float lo = kiri_dot4_sub(w.q.x & 0x0F0F0F0Fu, x.lo, 0.0f);
        lo = kiri_dot4_sub(w.q.y & 0x0F0F0F0Fu, x.lo + 4, lo);
        lo = kiri_dot4_sub(w.q.z & 0x0F0F0F0Fu, x.lo + 8, lo);
        lo = kiri_dot4_sub(w.q.w & 0x0F0F0F0Fu, x.lo + 12, lo);
        float hi = kiri_dot4_sub((w.q.x >> 4) & 0x0F0F0F0Fu, x.hi, 0.0f);
        hi = kiri_dot4_sub((w.q.y >> 4) & 0x0F0F0F0Fu, x.hi + 4, hi);
        hi = kiri_dot4_sub((w.q.z >> 4) & 0x0F0F0F0Fu, x.hi + 8, hi);
        hi = kiri_dot4_sub((w.q.w >> 4) & 0x0F0F0F0Fu, x.hi + 12, hi);
        return d * fmaf(sc0, lo, sc1 * hi) - dmin * fmaf(m0, x.slo, m1 * x.shi);
    }
};

// Q6_K (210-byte blocks of 256 values: 128 bytes of low nibbles ql, 64 bytes of 2-bit highs qh,
// 16 signed 8-bit scales, f16 d; value 128h + 32q + l (half h, quarter q, l < 32) has low bits
// from ql[64h + l + 32(q&1)] (low nibble for q < 2, else high), high bits (qh[32h + l] >> 2q) & 3,
// scale scales[8h + 2q + l/16]; w = d * scale * (bits - 32)). Sixteen units per block, unit
// 8h + t covering l = 4t..4t+3 in all four quarters: 4 bytes of ql at 64h + 4t, 4 at 64h + 32 + 4t,
// 4 of qh at 32h + 4t and the 4 scales (blocks are 2-byte aligned: 16-bit loads).
struct KiriQ6_K {
    static constexpr int VALUES = 16, UNROLL = 1;
    struct X {
        float v[4][4];
    };
    struct W {
        unsigned a, b, h, s0, s1;
        unsigned short d;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        const float* p = xs + (u >> 4) * 256 + ((u >> 3) & 1) * 128 + (u & 7) * 4;
#pragma unroll
        for (int q = 0; q < 4; q++) kiri_x4<VX>(p + 32 * q, x.v[q]);
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        const unsigned char* blk = row + (u >> 4) * KIRI_Q6_K_BYTES;
        const int h = (u >> 3) & 1, l = (u & 7) * 4;
        w.a = kiri_u16x2(blk + 64 * h + l);
        w.b = kiri_u16x2(blk + 64 * h + 32 + l);
        w.h = kiri_u16x2(blk + 128 + 32 * h + l);
        w.s0 = kiri_u16x2(blk + 192 + 8 * h);
        w.s1 = kiri_u16x2(blk + 196 + 8 * h);
        w.d = kiri_u16(blk + 208);
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int u) {
        // scales 8h + 2q + s (s = l/16) for q = 0..3: bytes s, 2+s, 4+s, 6+s of s0:s1
        const unsigned s = (u >> 2) & 1;
        unsigned sc = __byte_perm(w.s0, w.s1, 0x6420u + s * 0x1111u) ^ 0x80808080u;
        const float off = KIRI_2P23 + 32.0f;
        float t0 = kiri_dot4((w.a & 0x0F0F0F0Fu) | ((w.h << 4) & 0x30303030u), off, x.v[0], 0.0f);
        float t1 = kiri_dot4((w.b & 0x0F0F0F0Fu) | ((w.h << 2) & 0x30303030u), off, x.v[1], 0.0f);
        float t2 = kiri_dot4(((w.a >> 4) & 0x0F0F0F0Fu) | (w.h & 0x30303030u), off, x.v[2], 0.0f);
        float t3 = kiri_dot4(((w.b >> 4) & 0x0F0F0F0Fu) | ((w.h >> 2) & 0x30303030u), off, x.v[3], 0.0f);
        const float soff = KIRI_2P23 + 128.0f;
        float r = (kiri_mag(sc, 0) - soff) * t0;
        r = fmaf(kiri_mag(sc, 1) - soff, t1, r);
        r = fmaf(kiri_mag(sc, 2) - soff, t2, r);
        r = fmaf(kiri_mag(sc, 3) - soff, t3, r);
        return kiri_f16(w.d) * r;
    }
};

// F32 rows: units of 4 values, one 16-byte load per row.
struct KiriF32 {
    static constexpr int VALUES = 4, UNROLL = 2;
    struct X {
        float v[4];
    };
    struct W {
        float4 w;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        kiri_x4<VX>(xs + u * 4, x.v);
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        w.w = kiri_f32x4((const float*) row + u * 4);
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int) {
        float s = w.w.x * x.v[0];
        s = fmaf(w.w.y, x.v[1], s);
        s = fmaf(w.w.z, x.v[2], s);
        return fmaf(w.w.w, x.v[3], s);
    }
};

// F16 and BF16 rows: units of 8 values, one 16-byte load per row.
template <bool BF>
struct KiriHalf {
    static constexpr int VALUES = 8, UNROLL = 2;
    struct X {
        float v[8];
    };
    struct W {
        uint4 w;
    };
    template <bool VX>
    static __device__ __forceinline__ void loadX(const float* xs, int u, X& x) {
        kiri_x4<VX>(xs + u * 8, x.v);
        kiri_x4<VX>(xs + u * 8 + 4, x.v + 4);
    }
    static __device__ __forceinline__ void loadW(const unsigned char* row, int u, W& w) {
        w.w = kiri_u32x4(row + u * 16);
    }
    static __device__ __forceinline__ float lo(unsigned v) {
        return BF ? __int_as_float((int) (v << 16)) : kiri_f16((unsigned short) (v & 0xFFFFu));
    }
    static __device__ __forceinline__ float hi(unsigned v) {
        return BF ? __int_as_float((int) (v & 0xFFFF0000u)) : kiri_f16((unsigned short) (v >> 16));
    }
    static __device__ __forceinline__ float dot(const W& w, const X& x, int) {
        float s = lo(w.w.x) * x.v[0];
        s = fmaf(hi(w.w.x), x.v[1], s);
        s = fmaf(lo(w.w.y), x.v[2], s);
        s = fmaf(hi(w.w.y), x.v[3], s);
        s = fmaf(lo(w.w.z), x.v[4], s);
        s = fmaf(hi(w.w.z), x.v[5], s);
        s = fmaf(lo(w.w.w), x.v[6], s);
        return fmaf(hi(w.w.w), x.v[7], s);
    }
};

// Sums each thread's KIRI_MV_ROWS (4) partial sums over the block and stores the rows that exist.
// Within a warp the four sums are folded into one value per lane in six shuffles instead of 20:
// across 16 lanes each lane keeps two of the rows (lanes 0-15 rows 0, 1; lanes 16-31 rows 2, 3)
// and adds its partner's, across 8 lanes one, then the usual butterfly over the last 8 lanes;
// lane l ends with the warp's sum of row 2 * (l >> 4 & 1) + (l >> 3 & 1).
// part: the kernel's shared array of KIRI_MV_MAX_WARPS * KIRI_MV_ROWS floats (declared in the
// extern "C" kernel, so that its PTX name does not depend on the source path).
static __device__ __forceinline__ void kiri_mv_store(float* acc, float* yc, int r0, int rows, float* part) {
    const int lane = threadIdx.x % KIRI_WARP, warp = threadIdx.x / KIRI_WARP, warps = blockDim.x / KIRI_WARP;
    const bool upper = (lane & 16) != 0, odd = (lane & 8) != 0;
    float k0 = upper ? acc[2] : acc[0], k1 = upper ? acc[3] : acc[1];
    k0 += __shfl_xor_sync(0xffffffffu, upper ? acc[0] : acc[2], 16);
    k1 += __shfl_xor_sync(0xffffffffu, upper ? acc[1] : acc[3], 16);
    float v = (odd ? k1 : k0) + __shfl_xor_sync(0xffffffffu, odd ? k0 : k1, 8);
    v += __shfl_xor_sync(0xffffffffu, v, 4);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    v += __shfl_xor_sync(0xffffffffu, v, 1);
    const int r = (upper ? 2 : 0) + (odd ? 1 : 0);
    if (warps == 1) {
        if ((lane & 7) == 0 && r0 + r < rows) yc[r0 + r] = v;
        return;
    }
    if ((lane & 7) == 0) part[warp * KIRI_MV_ROWS + r] = v;
    __syncthreads();
    const int i = threadIdx.x;
    if (i < KIRI_MV_ROWS && r0 + i < rows) {
        float s = part[i];
        for (int w = 1; w < warps; w++) s += part[w * KIRI_MV_ROWS + i];
        yc[r0 + i] = s;
    }
}

template <class T, bool VX>
static __device__ __forceinline__ void kiri_mv_rows(const unsigned char* W, long long rowBytes, const float* xs,
        float* yc, int rows, int cols, float* part) {
    const int r0 = blockIdx.x * KIRI_MV_ROWS;
    const unsigned char* row[KIRI_MV_ROWS];
#pragma unroll
    for (int i = 0; i < KIRI_MV_ROWS; i++) row[i] = W + (long long) min(r0 + i, rows - 1) * rowBytes;
    float acc[KIRI_MV_ROWS];
#pragma unroll
    for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] = 0.0f;
    const int units = cols / T::VALUES, stride = blockDim.x;
    if (T::UNROLL == 2) {
        // Two units' loads in flight before either is used.
        for (int u = threadIdx.x; u < units; u += 2 * stride) {
            const int u2 = u + stride;
            const bool two = u2 < units;
            typename T::X xa, xb;
            typename T::W wa[KIRI_MV_ROWS], wb[KIRI_MV_ROWS];
            T::template loadX<VX>(xs, u, xa);
#pragma unroll
            for (int i = 0; i < KIRI_MV_ROWS; i++) T::loadW(row[i], u, wa[i]);
            if (two) {
                T::template loadX<VX>(xs, u2, xb);
#pragma unroll
                for (int i = 0; i < KIRI_MV_ROWS; i++) T::loadW(row[i], u2, wb[i]);
            }
#pragma unroll
            for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] += T::dot(wa[i], xa, u);
            if (two) {
#pragma unroll
                for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] += T::dot(wb[i], xb, u2);
            }
        }
    } else {
        for (int u = threadIdx.x; u < units; u += stride) {
            typename T::X xa;
            typename T::W wa[KIRI_MV_ROWS];
            T::template loadX<VX>(xs, u, xa);
#pragma unroll
            for (int i = 0; i < KIRI_MV_ROWS; i++) T::loadW(row[i], u, wa[i]);
#pragma unroll
            for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] += T::dot(wa[i], xa, u);
        }
    }
    kiri_mv_store(acc, yc, r0, rows, part);
}

// Shapes the unit layout cannot take (F32/F16/BF16 rows whose length or alignment does not
// allow 16-byte loads): one value per thread step, element by element. type: kiri_value's id.
template <int TYPE>
static __device__ __forceinline__ void kiri_mv_elements(const unsigned char* W, long long rowBytes, const float* xs,
        float* yc, int rows, int cols, float* part) {
    const int r0 = blockIdx.x * KIRI_MV_ROWS;
    const unsigned char* row[KIRI_MV_ROWS];
#pragma unroll
    for (int i = 0; i < KIRI_MV_ROWS; i++) row[i] = W + (long long) min(r0 + i, rows - 1) * rowBytes;
    float acc[KIRI_MV_ROWS];
#pragma unroll
    for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] = 0.0f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        float xv = xs[c];
#pragma unroll
        for (int i = 0; i < KIRI_MV_ROWS; i++) acc[i] = fmaf(kiri_value(TYPE, row[i], c), xv, acc[i]);
    }
    kiri_mv_store(acc, yc, r0, rows, part);
}

static __device__ __forceinline__ bool kiri_aligned16(const void* p) {
    return (reinterpret_cast<unsigned long long>(p) & 15) == 0;
}

// Quantized types: rows are whole blocks, so only the activations' alignment varies (a slice).
template <class T>
static __device__ __forceinline__ void kiri_mv_quant(const unsigned char* W, long long rowBytes, const float* x,
        float* y, int rows, int cols, float* part) {
    const float* xs = x + (long long) blockIdx.y * cols;
    float* yc = y + (long long) blockIdx.y * rows;
    if (kiri_aligned16(xs)) kiri_mv_rows<T, true>(W, rowBytes, xs, yc, rows, cols, part);
    else kiri_mv_rows<T, false>(W, rowBytes, xs, yc, rows, cols, part);
}

// Float types: the unit layout when every row and the activations are 16-byte aligned.
template <class T, int TYPE>
static __device__ __forceinline__ void kiri_mv_float(const unsigned char* W, long long rowBytes, const float* x,
        float* y, int rows, int cols, float* part) {
    const float* xs = x + (long long) blockIdx.y * cols;
    float* yc = y + (long long) blockIdx.y * rows;
    if (cols % T::VALUES == 0 && rowBytes % 16 == 0 && kiri_aligned16(W) && kiri_aligned16(xs)) {
        kiri_mv_rows<T, true>(W, rowBytes, xs, yc, rows, cols, part);
    } else {
        kiri_mv_elements<TYPE>(W, rowBytes, xs, yc, rows, cols, part);
    }
}

#define KIRI_MV_KERNEL(name, body)                                                                           \
    extern "C" __global__ void __launch_bounds__(32 * KIRI_MV_MAX_WARPS) name(const unsigned char* __restrict__ W, \
            long long rowBytes, const float* __restrict__ x, float* __restrict__ y, int rows, int cols) {     \
        __shared__ float part[KIRI_MV_MAX_WARPS * KIRI_MV_ROWS];                                              \
        body(W, rowBytes, x, y, rows, cols, part);                                                            \
    }

KIRI_MV_KERNEL(kiri_matvec_f32, (kiri_mv_float<KiriF32, 0>))
KIRI_MV_KERNEL(kiri_matvec_f16, (kiri_mv_float<KiriHalf<false>, 1>))
KIRI_MV_KERNEL(kiri_matvec_bf16, (kiri_mv_float<KiriHalf<true>, 30>))
KIRI_MV_KERNEL(kiri_matvec_q8_0, kiri_mv_quant<KiriQ8_0>)
KIRI_MV_KERNEL(kiri_matvec_q4_0, kiri_mv_quant<KiriQ4_0>)
KIRI_MV_KERNEL(kiri_matvec_q4_k, kiri_mv_quant<KiriQ4_K>)
KIRI_MV_KERNEL(kiri_matvec_q6_k, kiri_mv_quant<KiriQ6_K>)

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

// Batched matrix product for prefill on tensor cores: y[t*rows + r] = sum_c W[r][c] * x[t*cols + c]
// for r < rows, t < n, over GGUF weights as stored (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K).
//
// Tiles: a block computes KIRI_GEMM_BM (128) weight rows x KIRI_GEMM_BN (64) tokens; launch with
// gridDim.x = ceil(rows / 128), gridDim.y = ceil(n / 64) * (cols / splitCols), blockDim.x = 256
// (8 warps, each a 32 x 32 piece: 2 x 2 WMMA accumulators of 16 x 16). splitCols = cols: each
// block covers the whole reduction and stores its tile; splitCols = cols / 2 (a multiple of the
// block size; for grids too small to fill the GPU): blockIdx.y % 2 picks the half, and the two
// halves are added into y with atomicAdd, y zeroed before (exact and order-independent for two
// terms, so the result stays deterministic). The reduction runs over chunks of
// KIRI_GEMM_BK (32) columns: one Q8_0/Q4_0 block or one 32-value sub-block of a K-quant, so
// every chunk of a row has one scale (and min). Per chunk, every thread dequantizes 16 weights
// (row tid/2, half tid%2 of the chunk, or the Q4_0 nibble pairing) and loads 8 activations
// (token tid/4, quarter tid%4) into shared memory, rounded to TF32; the warps then multiply
// with wmma m16n16k8 (TF32 inputs, F32 accumulators). The next chunk's raw weight bytes and
// activations are fetched into registers before the current chunk's products, so global loads
// overlap the tensor-core work (one shared buffer, two barriers per chunk). Rows past `rows` and
// tokens past `n` read the last valid row/token (finite values) and are never written.
//
// Why TF32: activations keep F32's exponent range (F16 inputs could overflow on the FFN
// activations of real models); the inputs lose mantissa bits (10 kept, rounded to nearest), the
// accumulation stays F32.
//
// Requirements (checked by CudaKernels before choosing this path, else the matvec kernels run):
// cols a multiple of 32, W, x 16-byte aligned (row strides of whole tensors then are too).
#include "common.cuh"
#ifndef KIRI_HOST_EMULATION
#include <mma.h>
#endif

#define KIRI_GEMM_BM 128
#define KIRI_GEMM_BN 64
#define KIRI_GEMM_BK 32
#define KIRI_GEMM_THREADS 256
#define KIRI_GEMM_LDA 36                      // shared row stride in floats: a multiple of 4, skewed against bank conflicts
#define KIRI_GEMM_LDC (KIRI_GEMM_BM + 4)      // stride of the staged output tile, token-major
#define KIRI_GEMM_SMEM (KIRI_GEMM_BN * KIRI_GEMM_LDC)  // >= (BM + BN) * LDA: one array for both uses

using namespace nvcuda;

static __device__ __forceinline__ float kiri_tf32(float v) {
    return wmma::__float_to_tf32(v);
}

// Stores v[0..n) rounded to TF32 at p (16-byte aligned) with 16-byte stores: a quarter-warp's
// stores then hit distinct banks, where 4-byte stores of the row-per-thread-pair layout would
// conflict 4 ways.
template <int N>
static __device__ __forceinline__ void kiri_put_tf32(float* p, const float* v) {
#pragma unroll
    for (int i = 0; i < N; i += 4) {
        *(float4*) (p + i) = make_float4(kiri_tf32(v[i]), kiri_tf32(v[i + 1]), kiri_tf32(v[i + 2]), kiri_tf32(v[i + 3]));
    }
}

// ---- weight chunk loaders: fetch() reads the raw bytes of the thread's part of a 32-column
// chunk into registers, put() dequantizes them into the row's shared-memory line ----------------

struct KiriLoadF32 {
    float4 v[4];
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const float4* p = (const float4*) (row + (long long) (k0 + 16 * half) * 4);
#pragma unroll
        for (int i = 0; i < 4; i++) v[i] = p[i];
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        float f[16];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            f[4 * i] = v[i].x;
            f[4 * i + 1] = v[i].y;
            f[4 * i + 2] = v[i].z;
            f[4 * i + 3] = v[i].w;
        }
        kiri_put_tf32<16>(a + 16 * half, f);
    }
};

template <bool BF16>
struct KiriLoadHalf {
    uint4 v[2];
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const uint4* p = (const uint4*) (row + (long long) (k0 + 16 * half) * 2);
        v[0] = p[0];
        v[1] = p[1];
    }
    static __device__ __forceinline__ float conv(unsigned int bits) {
        return BF16 ? kiri_bf16((unsigned short) bits) : kiri_f16((unsigned short) bits);
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        unsigned int w[8] = {v[0].x, v[0].y, v[0].z, v[0].w, v[1].x, v[1].y, v[1].z, v[1].w};
        float f[16];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            f[2 * i] = conv(w[i] & 0xFFFF);
            f[2 * i + 1] = conv(w[i] >> 16);
        }
        kiri_put_tf32<16>(a + 16 * half, f);
    }
};

// Q8_0 (34-byte blocks, 2-byte aligned): values 16*half .. +15 of the block.
struct KiriLoadQ8_0 {
    unsigned short d;
    unsigned short q[8];
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const unsigned short* b = (const unsigned short*) (row + (k0 / 32) * KIRI_Q8_0_BYTES);
        d = b[0];
#pragma unroll
        for (int i = 0; i < 8; i++) q[i] = b[1 + 8 * half + i];
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        float s = kiri_f16(d);
        float f[16];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            f[2 * i] = s * (float) (signed char) (q[i] & 0xFF);
            f[2 * i + 1] = s * (float) (signed char) (q[i] >> 8);
        }
        kiri_put_tf32<16>(a + 16 * half, f);
    }
};

// Q4_0 (18-byte blocks): bytes 8*half .. +7 of the 16, i.e. values 8*half+i (low nibbles) and
// 16+8*half+i (high nibbles).
struct KiriLoadQ4_0 {
    unsigned short d;
    unsigned short q[4];
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const unsigned short* b = (const unsigned short*) (row + (k0 / 32) * KIRI_Q4_0_BYTES);
        d = b[0];
#pragma unroll
        for (int i = 0; i < 4; i++) q[i] = b[1 + 4 * half + i];
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        float s = kiri_f16(d);
        float lo[8], hi[8];
#pragma unroll
        for (int i = 0; i < 4; i++) {
#pragma unroll
            for (int b = 0; b < 2; b++) {
                int byte = (q[i] >> (8 * b)) & 0xFF;
                lo[2 * i + b] = s * (float) ((byte & 0xF) - 8);
                hi[2 * i + b] = s * (float) ((byte >> 4) - 8);
            }
        }
        kiri_put_tf32<8>(a + 8 * half, lo);
        kiri_put_tf32<8>(a + 16 + 8 * half, hi);
    }
};

// Q4_K (144-byte blocks, 16-byte aligned in a whole tensor): sub-block j = (k0/32) % 8; 16
// quant bytes at 16 + (j/2)*32 + 16*half, low nibbles for even j, high for odd.
struct KiriLoadQ4_K {
    unsigned int dm;       // d (low half), dmin (high half)
    unsigned int s0, s1, s2;
    uint4 q;
    int j;
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const unsigned char* b = row + (k0 / 256) * KIRI_Q4_K_BYTES;
        j = (k0 / 32) % 8;
        const unsigned int* w = (const unsigned int*) b;
        dm = w[0];
        s0 = w[1];
        s1 = w[2];
        s2 = w[3];
        q = *(const uint4*) (b + 16 + (j / 2) * 32 + 16 * half);
    }
    static __device__ __forceinline__ int byteAt(unsigned int s0, unsigned int s1, unsigned int s2, int i) {
        unsigned int w = i < 4 ? s0 : (i < 8 ? s1 : s2);
        return (w >> (8 * (i & 3))) & 0xFF;
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        float d = kiri_f16((unsigned short) (dm & 0xFFFF));
        float dmin = kiri_f16((unsigned short) (dm >> 16));
        float sc, m;
        if (j < 4) {
            sc = (float) (byteAt(s0, s1, s2, j) & 63);
            m = (float) (byteAt(s0, s1, s2, j + 4) & 63);
        } else {
            sc = (float) ((byteAt(s0, s1, s2, j + 4) & 0xF) | ((byteAt(s0, s1, s2, j - 4) >> 6) << 4));
            m = (float) ((byteAt(s0, s1, s2, j + 4) >> 4) | ((byteAt(s0, s1, s2, j) >> 6) << 4));
        }
        float ds = d * sc, dmm = dmin * m;
        int shift = (j & 1) * 4;
        unsigned int w[4] = {q.x, q.y, q.z, q.w};
        float f[16];
#pragma unroll
        for (int i = 0; i < 16; i++) {
            int nib = (w[i / 4] >> (8 * (i % 4) + shift)) & 0xF;
            f[i] = ds * (float) nib - dmm;
        }
        kiri_put_tf32<16>(a + 16 * half, f);
    }
};

// Q6_K (210-byte blocks, 2-byte aligned): sub-block j = (k0/32) % 8 of half j/4, quarter j%4;
// values l = 16*half .. +15 of it share the scale scales[(j/4)*8 + (j%4)*2 + half].
struct KiriLoadQ6_K {
    unsigned short ql[8], qh[8];
    unsigned short d;
    signed char sc;
    int j;
    __device__ __forceinline__ void fetch(const unsigned char* row, int k0, int half) {
        const unsigned char* b = row + (k0 / 256) * KIRI_Q6_K_BYTES;
        j = (k0 / 32) % 8;
        int hf = j / 4, quarter = j % 4;
        const unsigned short* pl = (const unsigned short*) (b + hf * 64 + (quarter & 1) * 32 + 16 * half);
        const unsigned short* ph = (const unsigned short*) (b + 128 + hf * 32 + 16 * half);
#pragma unroll
        for (int i = 0; i < 8; i++) {
            ql[i] = pl[i];
            qh[i] = ph[i];
        }
        sc = ((const signed char*) b)[192 + hf * 8 + quarter * 2 + half];
        d = kiri_u16(b + 208);
    }
    __device__ __forceinline__ void put(float* a, int half) const {
        int quarter = j % 4;
        int lowShift = (quarter >> 1) * 4, highShift = 2 * quarter;
        float ds = kiri_f16(d) * (float) sc;
        float f[16];
#pragma unroll
        for (int i = 0; i < 16; i++) {
            int lo = (ql[i / 2] >> (8 * (i % 2) + lowShift)) & 0xF;
            int hi = (qh[i / 2] >> (8 * (i % 2) + highShift)) & 3;
            f[i] = ds * (float) ((lo | (hi << 4)) - 32);
        }
        kiri_put_tf32<16>(a + 16 * half, f);
    }
};

template <class L>
__device__ __forceinline__ void kiri_gemm(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int n, int splitCols) {
    __shared__ __align__(128) float smem[KIRI_GEMM_SMEM];
    float* As = smem;                                  // [BM][LDA]: weight rows
    float* Bs = smem + KIRI_GEMM_BM * KIRI_GEMM_LDA;   // [BN][LDA]: tokens
    int tid = threadIdx.x;
    int warp = tid / KIRI_WARP;
    int r0 = blockIdx.x * KIRI_GEMM_BM;
    int nSplit = cols / splitCols;                        // 1, or 2 halves of the reduction
    int t0 = (blockIdx.y / nSplit) * KIRI_GEMM_BN;
    int kBegin = (blockIdx.y % nSplit) * splitCols;
    int kEnd = kBegin + splitCols;

    // this thread's weight row and activation token, clamped into range
    int ar = tid / 2, ahalf = tid % 2;
    const unsigned char* wrow = W + (long long) min(r0 + ar, rows - 1) * rowBytes;
    int bt = tid / 4, bq = tid % 4;
    const float* xrow = x + (long long) min(t0 + bt, n - 1) * cols + 8 * bq;

    int wm = (warp % 4) * 32;   // the warp's rows within the tile
    int wn = (warp / 4) * 32;   // and tokens
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int jj = 0; jj < 2; jj++) wmma::fill_fragment(acc[i][jj], 0.0f);

    L ld;
    ld.fetch(wrow, kBegin, ahalf);
    float4 xv0 = *(const float4*) (xrow + kBegin);
    float4 xv1 = *(const float4*) (xrow + kBegin + 4);
    for (int k0 = kBegin; k0 < kEnd; k0 += KIRI_GEMM_BK) {
        ld.put(As + ar * KIRI_GEMM_LDA, ahalf);
        float xf[8] = {xv0.x, xv0.y, xv0.z, xv0.w, xv1.x, xv1.y, xv1.z, xv1.w};
        kiri_put_tf32<8>(Bs + bt * KIRI_GEMM_LDA + 8 * bq, xf);
        __syncthreads();
        if (k0 + KIRI_GEMM_BK < kEnd) {   // the next chunk's loads are in flight during the products
            ld.fetch(wrow, k0 + KIRI_GEMM_BK, ahalf);
            xv0 = *(const float4*) (xrow + k0 + KIRI_GEMM_BK);
            xv1 = *(const float4*) (xrow + k0 + KIRI_GEMM_BK + 4);
        }
#pragma unroll
        for (int kk = 0; kk < KIRI_GEMM_BK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], As + (wm + 16 * i) * KIRI_GEMM_LDA + kk, KIRI_GEMM_LDA);
#pragma unroll
            for (int jj = 0; jj < 2; jj++) wmma::load_matrix_sync(fb[jj], Bs + (wn + 16 * jj) * KIRI_GEMM_LDA + kk, KIRI_GEMM_LDA);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int jj = 0; jj < 2; jj++) wmma::mma_sync(acc[i][jj], fa[i], fb[jj], acc[i][jj]);
        }
        __syncthreads();
    }

    // stage the tile token-major (Cs[t][r]) and write the rows and tokens that exist, coalesced along r
    float* Cs = smem;
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int jj = 0; jj < 2; jj++)
            wmma::store_matrix_sync(Cs + (wn + 16 * jj) * KIRI_GEMM_LDC + wm + 16 * i, acc[i][jj], KIRI_GEMM_LDC,
                                    wmma::mem_col_major);
    __syncthreads();
    for (int e = tid; e < KIRI_GEMM_BM * KIRI_GEMM_BN; e += KIRI_GEMM_THREADS) {
        int t = e / KIRI_GEMM_BM, r = e % KIRI_GEMM_BM;
        if (t0 + t < n && r0 + r < rows) {
            float* o = y + (long long) (t0 + t) * rows + r0 + r;
            // two halves meet in y, zeroed before: 0 + a + b in either order is a + b exactly
            if (nSplit == 1) *o = Cs[t * KIRI_GEMM_LDC + r];
            else atomicAdd(o, Cs[t * KIRI_GEMM_LDC + r]);
        }
    }
}

#define KIRI_GEMM_ENTRY(name, loader)                                                                   \
    extern "C" __global__ void __launch_bounds__(KIRI_GEMM_THREADS, 2) name(const unsigned char* __restrict__ W, \
            long long rowBytes, const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int n,      \
            int splitCols) {                                                                             \
        kiri_gemm<loader>(W, rowBytes, x, y, rows, cols, n, splitCols);                                 \
    }

KIRI_GEMM_ENTRY(kiri_gemm_f32, KiriLoadF32)
KIRI_GEMM_ENTRY(kiri_gemm_f16, KiriLoadHalf<false>)
KIRI_GEMM_ENTRY(kiri_gemm_bf16, KiriLoadHalf<true>)
KIRI_GEMM_ENTRY(kiri_gemm_q8_0, KiriLoadQ8_0)
KIRI_GEMM_ENTRY(kiri_gemm_q4_0, KiriLoadQ4_0)
KIRI_GEMM_ENTRY(kiri_gemm_q4_k, KiriLoadQ4_K)
KIRI_GEMM_ENTRY(kiri_gemm_q6_k, KiriLoadQ6_K)

// ---- The wide product (kiri_gemm128_*) ----------------------------------------------------------
// The same product, loaders and split convention over BN = 128 tokens per block: 8 warps of 64
// rows x 32 tokens (2 x 4), so each weight is dequantized once per 128 tokens instead of 64, with
// two shared-memory stages: while the warps multiply chunk k out of one, every thread dequantizes
// chunk k + 1 (fetched from global memory during the previous chunk's products) into the other,
// one barrier per chunk. Launch with 2 * (KIRI_GEMM_BM + BN) * KIRI_GEMM_LDA floats of dynamic
// shared memory (73,728 bytes: above the 48 KiB default, so the host raises the function's limit),
// gridDim.y = ceil(n / 128) * (cols / splitCols). On an H200 it takes 19 % less time than
// kiri_gemm_* for the 8192 x 2048 FFN matrices over 512 tokens, and more where its fewer blocks
// leave multiprocessors idle (a 512-row matrix); the host chooses. (A 64-token version of this
// double-buffered kernel measured no faster than kiri_gemm_*: the barriers are not what limits it.)
template <class L, int BN>
__device__ __forceinline__ void kiri_gemm_db(const unsigned char* __restrict__ W, long long rowBytes,
        const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int n, int splitCols) {
    constexpr int STAGE = (KIRI_GEMM_BM + BN) * KIRI_GEMM_LDA;
    constexpr int WARPS_M = BN == 64 ? 4 : 2;           // warps along the rows; 8 / WARPS_M along the tokens
    constexpr int MI = KIRI_GEMM_BM / WARPS_M / 16;      // 16-row fragments per warp
    constexpr int XPT = BN / 8;                          // activations a thread stages per chunk: 8 or 16
    constexpr int TPT = KIRI_GEMM_BK / XPT;              // threads per token: 4 or 2
    KIRI_DYNAMIC_SHARED(dsm);
    int tid = threadIdx.x;
    int warp = tid / KIRI_WARP;
    int r0 = blockIdx.x * KIRI_GEMM_BM;
    int nSplit = cols / splitCols;
    int t0 = (blockIdx.y / nSplit) * BN;
    int kBegin = (blockIdx.y % nSplit) * splitCols;
    int kEnd = kBegin + splitCols;

    int ar = tid / 2, ahalf = tid % 2;
    const unsigned char* wrow = W + (long long) min(r0 + ar, rows - 1) * rowBytes;
    int bt = tid / TPT, bq = tid % TPT;
    const float* xrow = x + (long long) min(t0 + bt, n - 1) * cols + XPT * bq;

    int wm = (warp % WARPS_M) * (16 * MI);
    int wn = (warp / WARPS_M) * 32;
    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[MI][2];
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int jj = 0; jj < 2; jj++) wmma::fill_fragment(acc[i][jj], 0.0f);

    L ld;
    float4 xv[XPT / 4];
    ld.fetch(wrow, kBegin, ahalf);
#pragma unroll
    for (int i = 0; i < XPT / 4; i++) xv[i] = *(const float4*) (xrow + kBegin + 4 * i);
    ld.put(dsm + ar * KIRI_GEMM_LDA, ahalf);
    {
        float xf[XPT];
#pragma unroll
        for (int i = 0; i < XPT / 4; i++) {
            xf[4 * i] = xv[i].x;
            xf[4 * i + 1] = xv[i].y;
            xf[4 * i + 2] = xv[i].z;
            xf[4 * i + 3] = xv[i].w;
        }
        kiri_put_tf32<XPT>(dsm + KIRI_GEMM_BM * KIRI_GEMM_LDA + bt * KIRI_GEMM_LDA + XPT * bq, xf);
    }
    __syncthreads();
    int cur = 0;
    for (int k0 = kBegin; k0 < kEnd; k0 += KIRI_GEMM_BK) {
        bool more = k0 + KIRI_GEMM_BK < kEnd;
        if (more) {   // in flight during the products
            ld.fetch(wrow, k0 + KIRI_GEMM_BK, ahalf);
#pragma unroll
            for (int i = 0; i < XPT / 4; i++) xv[i] = *(const float4*) (xrow + k0 + KIRI_GEMM_BK + 4 * i);
        }
        const float* As = dsm + cur * STAGE;
        const float* Bs = As + KIRI_GEMM_BM * KIRI_GEMM_LDA;
#pragma unroll
        for (int kk = 0; kk < KIRI_GEMM_BK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[MI];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> fb[2];
#pragma unroll
            for (int i = 0; i < MI; i++) wmma::load_matrix_sync(fa[i], As + (wm + 16 * i) * KIRI_GEMM_LDA + kk, KIRI_GEMM_LDA);
#pragma unroll
            for (int jj = 0; jj < 2; jj++) wmma::load_matrix_sync(fb[jj], Bs + (wn + 16 * jj) * KIRI_GEMM_LDA + kk, KIRI_GEMM_LDA);
#pragma unroll
            for (int i = 0; i < MI; i++)
#pragma unroll
                for (int jj = 0; jj < 2; jj++) wmma::mma_sync(acc[i][jj], fa[i], fb[jj], acc[i][jj]);
        }
        if (more) {   // the other stage: last read before the previous barrier
            float* An = dsm + (cur ^ 1) * STAGE;
            ld.put(An + ar * KIRI_GEMM_LDA, ahalf);
            float xf[XPT];
#pragma unroll
            for (int i = 0; i < XPT / 4; i++) {
                xf[4 * i] = xv[i].x;
                xf[4 * i + 1] = xv[i].y;
                xf[4 * i + 2] = xv[i].z;
                xf[4 * i + 3] = xv[i].w;
            }
            kiri_put_tf32<XPT>(An + KIRI_GEMM_BM * KIRI_GEMM_LDA + bt * KIRI_GEMM_LDA + XPT * bq, xf);
        }
        __syncthreads();
        cur ^= 1;
    }

    // stage the tile token-major (BN x LDC floats fit in the two stages) and write what exists
    float* Cs = dsm;
#pragma unroll
    for (int i = 0; i < MI; i++)
#pragma unroll
        for (int jj = 0; jj < 2; jj++)
            wmma::store_matrix_sync(Cs + (wn + 16 * jj) * KIRI_GEMM_LDC + wm + 16 * i, acc[i][jj], KIRI_GEMM_LDC,
                                    wmma::mem_col_major);
    __syncthreads();
    for (int e = tid; e < KIRI_GEMM_BM * BN; e += KIRI_GEMM_THREADS) {
        int t = e / KIRI_GEMM_BM, r = e % KIRI_GEMM_BM;
        if (t0 + t < n && r0 + r < rows) {
            float* o = y + (long long) (t0 + t) * rows + r0 + r;
            if (nSplit == 1) *o = Cs[t * KIRI_GEMM_LDC + r];
            else atomicAdd(o, Cs[t * KIRI_GEMM_LDC + r]);
        }
    }
}

#define KIRI_GEMM_DB_ENTRY(name, loader, bn)                                                              \
    extern "C" __global__ void __launch_bounds__(KIRI_GEMM_THREADS, 2) name(const unsigned char* __restrict__ W, \
            long long rowBytes, const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int n,      \
            int splitCols) {                                                                             \
        kiri_gemm_db<loader, bn>(W, rowBytes, x, y, rows, cols, n, splitCols);                          \
    }

KIRI_GEMM_DB_ENTRY(kiri_gemm128_f32, KiriLoadF32, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_f16, KiriLoadHalf<false>, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_bf16, KiriLoadHalf<true>, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_q8_0, KiriLoadQ8_0, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_q4_0, KiriLoadQ4_0, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_q4_k, KiriLoadQ4_K, 128)
KIRI_GEMM_DB_ENTRY(kiri_gemm128_q6_k, KiriLoadQ6_K, 128)

// Causal attention of n new tokens over a GPU-resident F32 KV cache, split over the context
// ("flash decoding"); n = 1 is a decode step, n > 1 a prefill batch.
//
// Cache layout: [kvHeads][capacity][headDim] for keys and for values; the keys and values of the
// n tokens are already stored. Token i (0 <= i < n) is at position p = pos[0] + i (pos[0] read
// from device memory so that a captured graph replays for every step); it attends to
// max(0, p - window + 1) .. p (window <= 0: no window). Query head h uses KV head
// h / (nHeads / kvHeads). Scores are q.k * scale, soft-capped when softcap > 0. q and out are
// [n][nHeads][headDim]; the (token i, head h) pair is row i * nHeads + h of both.
//
// Pass 1 (kiri_attn_split: tiles of T = 1 token, kiri_attn_split4: T = 4): grid
// (ceil(n / T) * nHeads, nSplits), blockDim.x = 32 * KIRI_ATTN_WARPS. A block takes head
// h = blockIdx.x % nHeads of the T consecutive tokens of tile blockIdx.x / nHeads: every key and
// value row it reads serves all of them (with T = 4 a prefill batch reads the cache a quarter as
// often as with one token per block). The
// union of the tile's ranges is cut into nSplits contiguous chunks, the block takes chunk
// blockIdx.y, each warp every KIRI_ATTN_WARPS-th position of it, keeping per token a running
// maximum, denominator and weighted value sum over the positions that token sees; the warps are
// merged and the block writes each token's partial (max, sum, acc[headDim]) to
// part[(row*nSplits + split)*(headDim + 2)] (max -inf: no position of that chunk).
// Pass 2 (kiri_attn_merge): grid n * nHeads, blockDim.x >= headDim rounded up to 32: merges the
// partials of a row and writes out[row*headDim + d].
// headDim at most 32 * KIRI_ATTN_DMAX.
#include "common.cuh"

#define KIRI_ATTN_WARPS 4
#define KIRI_ATTN_DMAX 8
#define KIRI_NEG_INF __int_as_float(0xff800000)

template <int T>
__device__ __forceinline__ void kiri_attn_split_tile(const float* __restrict__ q, const float* __restrict__ kCache,
        const float* __restrict__ vCache, float* __restrict__ part, const int* __restrict__ pos,
        int nHeads, int kvHeads, int headDim, int capacity, int window, float scale, float softcap, int n) {
    __shared__ float sm[KIRI_ATTN_WARPS][T];
    __shared__ float ss[KIRI_ATTN_WARPS][T];
    __shared__ float sacc[KIRI_ATTN_WARPS][T][32 * KIRI_ATTN_DMAX];
    int h = blockIdx.x % nHeads;
    int i0 = (blockIdx.x / nHeads) * T;   // first token of the tile
    int nt = min(T, n - i0);              // tokens of the tile
    int split = blockIdx.y;
    int nSplits = gridDim.y;
    int lane = threadIdx.x % KIRI_WARP;
    int warp = threadIdx.x / KIRI_WARP;
    int kvh = h / (nHeads / kvHeads);
    // token j's last position and first position; the caller keeps positions inside the cache,
    // the clamp only keeps a wrong position from reading past it
    int pj[T], sj[T];
#pragma unroll
    for (int j = 0; j < T; j++) {
        pj[j] = min(pos[0] + i0 + min(j, nt - 1), capacity - 1);
        sj[j] = window > 0 ? max(0, pj[j] - window + 1) : 0;
    }
    int start = sj[0];
    int len = pj[T - 1] + 1 - start;
    int chunk = (len + nSplits - 1) / nSplits;
    int from = start + split * chunk;
    int to = min(from + chunk, pj[T - 1] + 1);

    float qr[T][KIRI_ATTN_DMAX];
    float acc[T][KIRI_ATTN_DMAX];
    float m[T], sum[T];
#pragma unroll
    for (int j = 0; j < T; j++) {
        const float* qj = q + ((long long) (i0 + min(j, nt - 1)) * nHeads + h) * headDim;
#pragma unroll
        for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
            int d = lane + 32 * i;
            qr[j][i] = d < headDim ? qj[d] : 0.0f;
            acc[j][i] = 0.0f;
        }
        m[j] = KIRI_NEG_INF;
        sum[j] = 0.0f;
    }
    const float* kh = kCache + (long long) kvh * capacity * headDim;
    const float* vh = vCache + (long long) kvh * capacity * headDim;
    for (int t = from + warp; t < to; t += KIRI_ATTN_WARPS) {
        const float* kt = kh + (long long) t * headDim;
        const float* vt = vh + (long long) t * headDim;
        float kr[KIRI_ATTN_DMAX], vr[KIRI_ATTN_DMAX];
#pragma unroll
        for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
            int d = lane + 32 * i;
            kr[i] = d < headDim ? kt[d] : 0.0f;
            vr[i] = d < headDim ? vt[d] : 0.0f;
        }
#pragma unroll
        for (int j = 0; j < T; j++) {
            // the same for every lane of the warp, so the shuffles below run on full warps
            if (j < nt && t >= sj[j] && t <= pj[j]) {
                float s = 0.0f;
#pragma unroll
                for (int i = 0; i < KIRI_ATTN_DMAX; i++) s += qr[j][i] * kr[i];
                s = kiri_warp_sum(s) * scale;
                if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
                float mNew = fmaxf(m[j], s);
                float c = expf(m[j] - mNew);   // 0 when m is -inf
                float w = expf(s - mNew);
                sum[j] = sum[j] * c + w;
#pragma unroll
                for (int i = 0; i < KIRI_ATTN_DMAX; i++) acc[j][i] = acc[j][i] * c + w * vr[i];
                m[j] = mNew;
            }
        }
    }
#pragma unroll
    for (int j = 0; j < T; j++) {
        if (lane == 0) {
            sm[warp][j] = m[j];
            ss[warp][j] = sum[j];
        }
#pragma unroll
        for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
            int d = lane + 32 * i;
            if (d < headDim) sacc[warp][j][d] = acc[j][i];
        }
    }
    __syncthreads();
    for (int j = 0; j < nt; j++) {
        float* out = part + (((long long) (i0 + j) * nHeads + h) * nSplits + split) * (headDim + 2);
        float mAll = KIRI_NEG_INF;
        for (int w = 0; w < KIRI_ATTN_WARPS; w++) mAll = fmaxf(mAll, sm[w][j]);
        for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
            float a = 0.0f;
            for (int w = 0; w < KIRI_ATTN_WARPS; w++) {
                if (sm[w][j] != KIRI_NEG_INF) a += sacc[w][j][d] * expf(sm[w][j] - mAll);
            }
            out[2 + d] = a;
        }
        if (threadIdx.x == 0) {
            float sAll = 0.0f;
            for (int w = 0; w < KIRI_ATTN_WARPS; w++) {
                if (sm[w][j] != KIRI_NEG_INF) sAll += ss[w][j] * expf(sm[w][j] - mAll);
            }
            out[0] = mAll;
            out[1] = sAll;
        }
    }
}

// One token per block (decode: fewer registers, more blocks per SM) and tiles of 4 (prefill).
extern "C" __global__ void kiri_attn_split(const float* __restrict__ q, const float* __restrict__ kCache,
        const float* __restrict__ vCache, float* __restrict__ part, const int* __restrict__ pos,
        int nHeads, int kvHeads, int headDim, int capacity, int window, float scale, float softcap, int n) {
    kiri_attn_split_tile<1>(q, kCache, vCache, part, pos, nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
}

extern "C" __global__ void kiri_attn_split4(const float* __restrict__ q, const float* __restrict__ kCache,
        const float* __restrict__ vCache, float* __restrict__ part, const int* __restrict__ pos,
        int nHeads, int kvHeads, int headDim, int capacity, int window, float scale, float softcap, int n) {
    kiri_attn_split_tile<4>(q, kCache, vCache, part, pos, nHeads, kvHeads, headDim, capacity, window, scale, softcap, n);
}

// Prompt attention (kiri_attn_prefill): a thread group of G = 1, 2 or 4 lanes per query
// (G * 64 >= headDim; lane g holds dimensions 64g .. 64g+63 of the query and of its output in
// registers), KIRI_AP_THREADS / G consecutive tokens of one head per block: grid
// (ceil(n / (KIRI_AP_THREADS / G)) * nHeads, nSplits), blockDim.x = KIRI_AP_THREADS. The union of
// the block's ranges is cut into nSplits chunks (as kiri_attn_split does), the block takes chunk
// blockIdx.y and walks it in tiles of KIRI_AP_KEYS key and value rows staged in shared memory
// (read once for all its tokens); each thread forms the score of its query with every row by
// plain FMAs (its group's partial dots summed with G - 1 shuffles), and keeps the running maximum,
// denominator and weighted sum of the positions its token sees. With one split it writes out
// directly; with more, the partials (as kiri_attn_split) for kiri_attn_merge. headDim a multiple
// of 4.
#define KIRI_AP_THREADS 64
#define KIRI_AP_KEYS 16
#define KIRI_AP_DT 64

extern "C" __global__ void __launch_bounds__(KIRI_AP_THREADS) kiri_attn_prefill(const float* __restrict__ q,
        const float* __restrict__ kCache, const float* __restrict__ vCache, float* __restrict__ out,
        float* __restrict__ part, const int* __restrict__ pos, int nHeads, int kvHeads, int headDim, int capacity,
        int window, float scale, float softcap, int n) {
    __shared__ __align__(16) float ks[KIRI_AP_KEYS * 32 * KIRI_ATTN_DMAX];   // rows headDim apart
    __shared__ __align__(16) float vs[KIRI_AP_KEYS * 32 * KIRI_ATTN_DMAX];
    int G = headDim <= 64 ? 1 : (headDim <= 128 ? 2 : 4);
    int qpb = KIRI_AP_THREADS / G;                       // tokens per block
    int h = blockIdx.x % nHeads;
    int i0 = (blockIdx.x / nHeads) * qpb;
    int nt = min(qpb, n - i0);
    int g = threadIdx.x % G;
    int qi = threadIdx.x / G;
    bool valid = qi < nt;
    int i = i0 + min(qi, nt - 1);
    int kvh = h / (nHeads / kvHeads);
    int base = pos[0];
    int p = min(base + i, capacity - 1);                 // the caller keeps positions inside; never read past the cache
    int st = window > 0 ? max(0, p - window + 1) : 0;
    int pFirst = min(base + i0, capacity - 1);
    int pLast = min(base + i0 + nt - 1, capacity - 1);
    int start = window > 0 ? max(0, pFirst - window + 1) : 0;
    int nSplits = gridDim.y;
    int chunk = (pLast + 1 - start + nSplits - 1) / nSplits;
    int from = start + blockIdx.y * chunk;
    int to = min(from + chunk, pLast + 1);                // this block's positions: from .. to-1

    float qr[KIRI_AP_DT], o[KIRI_AP_DT];
    const float* qrow = q + ((long long) i * nHeads + h) * headDim + g * KIRI_AP_DT;
#pragma unroll
    for (int d = 0; d < KIRI_AP_DT; d++) {
        qr[d] = g * KIRI_AP_DT + d < headDim ? qrow[d] : 0.0f;
        o[d] = 0.0f;
    }
    float m = KIRI_NEG_INF, l = 0.0f;
    const float* kh = kCache + (long long) kvh * capacity * headDim;
    const float* vh = vCache + (long long) kvh * capacity * headDim;
    for (int t0 = from; t0 < to; t0 += KIRI_AP_KEYS) {
        int rowsHere = min(KIRI_AP_KEYS, to - t0);
        __syncthreads();   // the previous tile is no longer read
        // a head's positions are contiguous in the cache: the tile is one run of rowsHere * headDim floats
        const float* kt = kh + (long long) t0 * headDim;
        const float* vt = vh + (long long) t0 * headDim;
        for (int e = threadIdx.x; e < rowsHere * headDim; e += KIRI_AP_THREADS) {
            ks[e] = kt[e];
            vs[e] = vt[e];
        }
        __syncthreads();
        for (int r = 0; r < rowsHere; r++) {
            int t = t0 + r;
            const float* kr = ks + r * headDim + g * KIRI_AP_DT;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma unroll
            for (int d = 0; d < KIRI_AP_DT; d += 4) {
                if (g * KIRI_AP_DT + d < headDim) {   // headDim is a multiple of 4 (checked by the caller)
                    s0 += qr[d] * kr[d];
                    s1 += qr[d + 1] * kr[d + 1];
                    s2 += qr[d + 2] * kr[d + 2];
                    s3 += qr[d + 3] * kr[d + 3];
                }
            }
            float s = (s0 + s1) + (s2 + s3);
            for (int off = 1; off < G; off <<= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
            if (valid && t >= st && t <= p) {
                s *= scale;
                if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
                float mNew = fmaxf(m, s);
                float c = expf(m - mNew);   // 0 when m is -inf
                float w = expf(s - mNew);
                l = l * c + w;
                const float* vr = vs + r * headDim + g * KIRI_AP_DT;
#pragma unroll
                for (int d = 0; d < KIRI_AP_DT; d++) {
                    if (g * KIRI_AP_DT + d < headDim) o[d] = o[d] * c + w * vr[d];
                }
                m = mNew;
            }
        }
    }
    if (valid && nSplits == 1) {
        float inv = 1.0f / l;
        float* orow = out + ((long long) i * nHeads + h) * headDim + g * KIRI_AP_DT;
#pragma unroll
        for (int d = 0; d < KIRI_AP_DT; d++) {
            if (g * KIRI_AP_DT + d < headDim) orow[d] = o[d] * inv;
        }
    } else if (valid) {
        float* prow = part + (((long long) i * nHeads + h) * nSplits + blockIdx.y) * (headDim + 2);
        if (g == 0) {
            prow[0] = m;   // -inf when none of the chunk's positions is this token's
            prow[1] = l;
        }
#pragma unroll
        for (int d = 0; d < KIRI_AP_DT; d++) {
            if (g * KIRI_AP_DT + d < headDim) prow[2 + g * KIRI_AP_DT + d] = o[d];
        }
    }
}

extern "C" __global__ void kiri_attn_merge(const float* __restrict__ part, float* __restrict__ out,
        int headDim, int nSplits) {
    int row = blockIdx.x;              // token * nHeads + head
    const float* ph = part + (long long) row * nSplits * (headDim + 2);
    float mAll = KIRI_NEG_INF;
    for (int s = 0; s < nSplits; s++) mAll = fmaxf(mAll, ph[s * (headDim + 2)]);
    float sAll = 0.0f;
    for (int s = 0; s < nSplits; s++) {
        float m = ph[s * (headDim + 2)];
        if (m != KIRI_NEG_INF) sAll += ph[s * (headDim + 2) + 1] * expf(m - mAll);
    }
    float inv = 1.0f / sAll;
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float a = 0.0f;
        for (int s = 0; s < nSplits; s++) {
            float m = ph[s * (headDim + 2)];
            if (m != KIRI_NEG_INF) a += ph[s * (headDim + 2) + 2 + d] * expf(m - mAll);
        }
        out[(long long) row * headDim + d] = a * inv;
    }
}

// ---- Prompt attention on tensor cores (kiri_attn_flash64, kiri_attn_flash128) ----------------
// For head dimensions 64 and 128, from ATTN_PREFILL_MIN tokens: the same grid, split and output
// conventions as kiri_attn_prefill, with 64 tokens of one head per block of 4 warps, 16 tokens per
// warp. The block walks its chunk in tiles of KIRI_FA_KT key and value rows staged in shared
// memory (zeros past the chunk); per tile each warp forms its 16 x 32 scores with mma.m16n8k8 on
// TF32 inputs, masks them (causal, window, chunk), updates its running row maxima and sums, writes
// the probabilities to its own shared tile and adds probabilities x values to its 16 x headDim
// output, also with mma. Every product is split three ways (3xTF32: a*b ~ a_hi*b_hi + a_hi*b_lo +
// a_lo*b_hi, with x_hi = tf32(x), x_lo = tf32(x - x_hi)), which keeps the result as close to the
// F32 arithmetic of kiri_attn_prefill as the tests' 2e-5 tolerance asks; the tensor cores have the
// throughput to spare. Fragment layouts are PTX's for .m16n8k8 .tf32 (groupID = lane / 4,
// t = lane % 4): A a0 (g, t), a1 (g + 8, t), a2 (g, t + 4), a3 (g + 8, t + 4); B b0 (row t, col g),
// b1 (t + 4, g); C c0 (g, 2t), c1 (g, 2t + 1), c2 (g + 8, 2t), c3 (g + 8, 2t + 1). Shared strides
// (headDim + 4 for keys, headDim + 8 for values, 36 for probabilities) make every fragment load
// hit 32 distinct banks.
#define KIRI_FA_WARPS 4
#define KIRI_FA_Q 16
#define KIRI_FA_KT 32
#define KIRI_FA_LP (KIRI_FA_KT + 4)

#ifndef KIRI_HOST_EMULATION
// d += a * b on the tensor cores, TF32 inputs (bit patterns with the low 13 mantissa bits zero).
static __device__ __forceinline__ void kiri_mma_tf32(float* d, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

static __device__ __forceinline__ unsigned kiri_tf32_rna(float x) {
    unsigned r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}
#endif

static __device__ __forceinline__ void kiri_split_tf32(float x, unsigned& hi, unsigned& lo) {
    hi = kiri_tf32_rna(x);
    lo = kiri_tf32_rna(x - __uint_as_float(hi));
}

// d += a * b with both split: the three products, small ones first.
static __device__ __forceinline__ void kiri_mma3(float* d, const unsigned* ah, const unsigned* al, float bf0, float bf1) {
    unsigned bh0, bl0, bh1, bl1;
    kiri_split_tf32(bf0, bh0, bl0);
    kiri_split_tf32(bf1, bh1, bl1);
    kiri_mma_tf32(d, al, bh0, bh1);
    kiri_mma_tf32(d, ah, bl0, bl1);
    kiri_mma_tf32(d, ah, bh0, bh1);
}

template <int D>
__device__ __forceinline__ void kiri_attn_flash(const float* __restrict__ q, const float* __restrict__ kCache,
        const float* __restrict__ vCache, float* __restrict__ out, float* __restrict__ part, const int* __restrict__ pos,
        int nHeads, int kvHeads, int capacity, int window, float scale, float softcap, int n) {
    constexpr int LK = D + 4, LV = D + 8, NT = D / 8, KJ = KIRI_FA_KT / 8;
    __shared__ __align__(16) float ks[KIRI_FA_KT * LK];
    __shared__ __align__(16) float vs[KIRI_FA_KT * LV];
    __shared__ __align__(16) float ps[KIRI_FA_WARPS][KIRI_FA_Q * KIRI_FA_LP];
    int warp = threadIdx.x / KIRI_WARP, lane = threadIdx.x % KIRI_WARP;
    int g = lane >> 2, t = lane & 3;
    int h = blockIdx.x % nHeads;
    int i0 = (blockIdx.x / nHeads) * (KIRI_FA_WARPS * KIRI_FA_Q);
    int nt = min(KIRI_FA_WARPS * KIRI_FA_Q, n - i0);
    int kvh = h / (nHeads / kvHeads);
    int base = pos[0];
    // the block's positions (the union of its tokens' ranges), cut into gridDim.y chunks
    int pFirst = min(base + i0, capacity - 1);   // the caller keeps positions inside; never read past the cache
    int pLast = min(base + i0 + nt - 1, capacity - 1);
    int start = window > 0 ? max(0, pFirst - window + 1) : 0;
    int nSplits = gridDim.y;
    int chunk = (pLast + 1 - start + nSplits - 1) / nSplits;
    int from = start + blockIdx.y * chunk;
    int to = min(from + chunk, pLast + 1);
    // this lane's rows g and g + 8 of the warp's 16 tokens (past the batch: the last token, never written)
    int r0 = warp * KIRI_FA_Q + g, r1 = r0 + 8;
    int qi0 = i0 + min(r0, nt - 1), qi1 = i0 + min(r1, nt - 1);
    int p0 = min(base + qi0, capacity - 1), p1 = min(base + qi1, capacity - 1);
    int st0 = window > 0 ? max(0, p0 - window + 1) : 0, st1 = window > 0 ? max(0, p1 - window + 1) : 0;
    int wLast = min(base + i0 + min(warp * KIRI_FA_Q + KIRI_FA_Q - 1, nt - 1), capacity - 1);
    int wFirst = min(base + i0 + min(warp * KIRI_FA_Q, nt - 1), capacity - 1);
    int wStart = window > 0 ? max(0, wFirst - window + 1) : 0;

    float qa[NT][4];
    const float* q0 = q + ((long long) qi0 * nHeads + h) * D;
    const float* q1 = q + ((long long) qi1 * nHeads + h) * D;
#pragma unroll
    for (int k = 0; k < NT; k++) {
        qa[k][0] = q0[8 * k + t];
        qa[k][1] = q1[8 * k + t];
        qa[k][2] = q0[8 * k + t + 4];
        qa[k][3] = q1[8 * k + t + 4];
    }
    float o[NT][4];
#pragma unroll
    for (int j = 0; j < NT; j++) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.0f;
    float m0 = KIRI_NEG_INF, m1 = KIRI_NEG_INF, l0 = 0.0f, l1 = 0.0f;
    float* pw = ps[warp];
    const float* kh = kCache + (long long) kvh * capacity * D;
    const float* vh = vCache + (long long) kvh * capacity * D;
    for (int t0 = from; t0 < to; t0 += KIRI_FA_KT) {
        int rows = min(KIRI_FA_KT, to - t0);
        __syncthreads();   // the previous tile is no longer read
        // a head's positions are contiguous in the cache: the tile is one run of rows * D floats
        const float4* kt = (const float4*) (kh + (long long) t0 * D);
        const float4* vt = (const float4*) (vh + (long long) t0 * D);
        for (int e = threadIdx.x; e < KIRI_FA_KT * (D / 4); e += KIRI_FA_WARPS * KIRI_WARP) {
            int r = e / (D / 4), c = (e % (D / 4)) * 4;
            float4 kv = make_float4(0.0f, 0.0f, 0.0f, 0.0f), vv = kv;
            if (r < rows) {
                kv = kt[e];
                vv = vt[e];
            }
            *(float4*) (ks + r * LK + c) = kv;
            *(float4*) (vs + r * LV + c) = vv;
        }
        __syncthreads();
        if (t0 > wLast || t0 + rows <= wStart) continue;   // the same for the whole warp: nothing here it sees

        float sc[KJ][4];
#pragma unroll
        for (int j = 0; j < KJ; j++) sc[j][0] = sc[j][1] = sc[j][2] = sc[j][3] = 0.0f;
#pragma unroll
        for (int k = 0; k < NT; k++) {
            unsigned ah[4], al[4];
#pragma unroll
            for (int i = 0; i < 4; i++) kiri_split_tf32(qa[k][i], ah[i], al[i]);
#pragma unroll
            for (int j = 0; j < KJ; j++) {
                const float* kr = ks + (8 * j + g) * LK + 8 * k + t;   // B (d, key) = K[key][d]
                kiri_mma3(sc[j], ah, al, kr[0], kr[4]);
            }
        }
        float mx0 = KIRI_NEG_INF, mx1 = KIRI_NEG_INF;
#pragma unroll
        for (int j = 0; j < KJ; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                int key = t0 + 8 * j + 2 * t + e;
                bool in = key < t0 + rows;
                float s0 = sc[j][e] * scale, s1 = sc[j][2 + e] * scale;
                if (softcap > 0.0f) {
                    s0 = softcap * tanhf(s0 / softcap);
                    s1 = softcap * tanhf(s1 / softcap);
                }
                sc[j][e] = in && key >= st0 && key <= p0 ? s0 : KIRI_NEG_INF;
                sc[j][2 + e] = in && key >= st1 && key <= p1 ? s1 : KIRI_NEG_INF;
                mx0 = fmaxf(mx0, sc[j][e]);
                mx1 = fmaxf(mx1, sc[j][2 + e]);
            }
        }
        // a row's 32 scores are spread over the 4 lanes of its group
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        float mn0 = fmaxf(m0, mx0), mn1 = fmaxf(m1, mx1);
        float c0 = mn0 == KIRI_NEG_INF ? 1.0f : expf(m0 - mn0);   // 0 when m was -inf
        float c1 = mn1 == KIRI_NEG_INF ? 1.0f : expf(m1 - mn1);
        float sum0 = 0.0f, sum1 = 0.0f;
#pragma unroll
        for (int j = 0; j < KJ; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                float w0 = sc[j][e] == KIRI_NEG_INF ? 0.0f : expf(sc[j][e] - mn0);
                float w1 = sc[j][2 + e] == KIRI_NEG_INF ? 0.0f : expf(sc[j][2 + e] - mn1);
                sc[j][e] = w0;
                sc[j][2 + e] = w1;
                sum0 += w0;
                sum1 += w1;
            }
            *(float2*) (pw + g * KIRI_FA_LP + 8 * j + 2 * t) = make_float2(sc[j][0], sc[j][1]);
            *(float2*) (pw + (g + 8) * KIRI_FA_LP + 8 * j + 2 * t) = make_float2(sc[j][2], sc[j][3]);
        }
        sum0 += __shfl_xor_sync(0xffffffffu, sum0, 1);
        sum0 += __shfl_xor_sync(0xffffffffu, sum0, 2);
        sum1 += __shfl_xor_sync(0xffffffffu, sum1, 1);
        sum1 += __shfl_xor_sync(0xffffffffu, sum1, 2);
        l0 = l0 * c0 + sum0;
        l1 = l1 * c1 + sum1;
        m0 = mn0;
        m1 = mn1;
#pragma unroll
        for (int j = 0; j < NT; j++) {
            o[j][0] *= c0;
            o[j][1] *= c0;
            o[j][2] *= c1;
            o[j][3] *= c1;
        }
        __syncwarp();   // the warp's probabilities are in shared memory
#pragma unroll
        for (int k = 0; k < KJ; k++) {
            unsigned ah[4], al[4];
            kiri_split_tf32(pw[g * KIRI_FA_LP + 8 * k + t], ah[0], al[0]);
            kiri_split_tf32(pw[(g + 8) * KIRI_FA_LP + 8 * k + t], ah[1], al[1]);
            kiri_split_tf32(pw[g * KIRI_FA_LP + 8 * k + t + 4], ah[2], al[2]);
            kiri_split_tf32(pw[(g + 8) * KIRI_FA_LP + 8 * k + t + 4], ah[3], al[3]);
#pragma unroll
            for (int j = 0; j < NT; j++) {
                const float* vr = vs + (8 * k + t) * LV + 8 * j + g;   // B (key, d) = V[key][d]
                kiri_mma3(o[j], ah, al, vr[0], vr[4 * LV]);
            }
        }
        __syncwarp();   // read before the next tile overwrites them
    }
    bool v0 = r0 < nt, v1 = r1 < nt;
    if (nSplits == 1) {
        float inv0 = 1.0f / l0, inv1 = 1.0f / l1;
        float* o0 = out + ((long long) (i0 + r0) * nHeads + h) * D;
        float* o1 = out + ((long long) (i0 + r1) * nHeads + h) * D;
#pragma unroll
        for (int j = 0; j < NT; j++) {
            if (v0) *(float2*) (o0 + 8 * j + 2 * t) = make_float2(o[j][0] * inv0, o[j][1] * inv0);
            if (v1) *(float2*) (o1 + 8 * j + 2 * t) = make_float2(o[j][2] * inv1, o[j][3] * inv1);
        }
    } else {
        float* pr0 = part + (((long long) (i0 + r0) * nHeads + h) * nSplits + blockIdx.y) * (D + 2);
        float* pr1 = part + (((long long) (i0 + r1) * nHeads + h) * nSplits + blockIdx.y) * (D + 2);
        if (v0 && t == 0) {
            pr0[0] = m0;   // -inf when none of the chunk's positions is this token's
            pr0[1] = l0;
        }
        if (v1 && t == 0) {
            pr1[0] = m1;
            pr1[1] = l1;
        }
#pragma unroll
        for (int j = 0; j < NT; j++) {
            if (v0) {
                pr0[2 + 8 * j + 2 * t] = o[j][0];
                pr0[3 + 8 * j + 2 * t] = o[j][1];
            }
            if (v1) {
                pr1[2 + 8 * j + 2 * t] = o[j][2];
                pr1[3 + 8 * j + 2 * t] = o[j][3];
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(KIRI_FA_WARPS * KIRI_WARP) kiri_attn_flash64(const float* __restrict__ q,
        const float* __restrict__ kCache, const float* __restrict__ vCache, float* __restrict__ out,
        float* __restrict__ part, const int* __restrict__ pos, int nHeads, int kvHeads, int capacity, int window,
        float scale, float softcap, int n) {
    kiri_attn_flash<64>(q, kCache, vCache, out, part, pos, nHeads, kvHeads, capacity, window, scale, softcap, n);
}

extern "C" __global__ void __launch_bounds__(KIRI_FA_WARPS * KIRI_WARP) kiri_attn_flash128(const float* __restrict__ q,
        const float* __restrict__ kCache, const float* __restrict__ vCache, float* __restrict__ out,
        float* __restrict__ part, const int* __restrict__ pos, int nHeads, int kvHeads, int capacity, int window,
        float scale, float softcap, int n) {
    kiri_attn_flash<128>(q, kCache, vCache, out, part, pos, nHeads, kvHeads, capacity, window, scale, softcap, n);
}

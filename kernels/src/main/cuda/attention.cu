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

// Prefill attention without splits (kiri_attn_prefill): a thread group of G = 1, 2 or 4 lanes per
// query (G * 64 >= headDim; lane g holds dimensions 64g .. 64g+63 of the query and of its output
// in registers), KIRI_AP_THREADS / G consecutive tokens of one head per block: grid
// ceil(n / (KIRI_AP_THREADS / G)) * nHeads, blockDim.x = KIRI_AP_THREADS. The block walks the
// union of its tokens' ranges in tiles of KIRI_AP_KEYS key and value rows staged in shared memory
// (read once for all its tokens); each thread forms the score of its query with every row by
// plain FMAs (its group's partial dots summed with G - 1 shuffles), and keeps the running maximum,
// denominator and weighted sum of the positions its token sees. No partials, no merge: it writes
// out directly.
#define KIRI_AP_THREADS 64
#define KIRI_AP_KEYS 16
#define KIRI_AP_DT 64

extern "C" __global__ void __launch_bounds__(KIRI_AP_THREADS) kiri_attn_prefill(const float* __restrict__ q,
        const float* __restrict__ kCache, const float* __restrict__ vCache, float* __restrict__ out,
        const int* __restrict__ pos, int nHeads, int kvHeads, int headDim, int capacity, int window, float scale,
        float softcap, int n) {
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
    int from = window > 0 ? max(0, pFirst - window + 1) : 0;

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
    for (int t0 = from; t0 <= pLast; t0 += KIRI_AP_KEYS) {
        int rowsHere = min(KIRI_AP_KEYS, pLast + 1 - t0);
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
    if (valid) {
        float inv = 1.0f / l;
        float* orow = out + ((long long) i * nHeads + h) * headDim + g * KIRI_AP_DT;
#pragma unroll
        for (int d = 0; d < KIRI_AP_DT; d++) {
            if (g * KIRI_AP_DT + d < headDim) orow[d] = o[d] * inv;
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

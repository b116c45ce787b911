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

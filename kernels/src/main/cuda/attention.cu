// Causal attention of n new tokens over a GPU-resident F32 KV cache, split over the context
// ("flash decoding"); n = 1 is a decode step, n > 1 a prefill batch.
//
// Cache layout: [kvHeads][capacity][headDim] for keys and for values; the keys and values of the
// n tokens are already stored. Token i (0 <= i < n) is at position p = pos[0] + i (pos[0] read
// from device memory so that a captured graph replays for every step); it attends to
// max(0, p - window + 1) .. p (window <= 0: no window). Query head h uses KV head
// h / (nHeads / kvHeads). Scores are q.k * scale, soft-capped when softcap > 0. q and out are
// [n][nHeads][headDim]; a (token, head) pair is the row blockIdx.x = i * nHeads + h of both.
//
// Pass 1 (kiri_attn_split): grid (n * nHeads, nSplits), blockDim.x = 32 * KIRI_ATTN_WARPS. Each
// block takes one contiguous chunk of its token's positions, each warp every KIRI_ATTN_WARPS-th
// position of it, keeping a running maximum, denominator and weighted value sum; the warps are
// merged and the block writes its partial (max, sum, acc[headDim]) to
// part[(blockIdx.x*nSplits + split)*(headDim + 2)].
// Pass 2 (kiri_attn_merge): grid n * nHeads, blockDim.x >= headDim rounded up to 32: merges the
// partials of a (token, head) row and writes out[blockIdx.x*headDim + d].
// headDim at most 32 * KIRI_ATTN_DMAX.
#include "common.cuh"

#define KIRI_ATTN_WARPS 4
#define KIRI_ATTN_DMAX 8
#define KIRI_NEG_INF __int_as_float(0xff800000)

extern "C" __global__ void kiri_attn_split(const float* __restrict__ q, const float* __restrict__ kCache,
        const float* __restrict__ vCache, float* __restrict__ part, const int* __restrict__ pos,
        int nHeads, int kvHeads, int headDim, int capacity, int window, float scale, float softcap) {
    __shared__ float sm[KIRI_ATTN_WARPS];
    __shared__ float ss[KIRI_ATTN_WARPS];
    __shared__ float sacc[KIRI_ATTN_WARPS][32 * KIRI_ATTN_DMAX];
    int row = blockIdx.x;              // token * nHeads + head
    int h = row % nHeads;
    int split = blockIdx.y;
    int nSplits = gridDim.y;
    int lane = threadIdx.x % KIRI_WARP;
    int warp = threadIdx.x / KIRI_WARP;
    int kvh = h / (nHeads / kvHeads);
    int p = min(pos[0] + row / nHeads, capacity - 1); // the caller keeps positions inside; never read past the cache
    int start = window > 0 ? max(0, p - window + 1) : 0;
    int len = p + 1 - start;
    int chunk = (len + nSplits - 1) / nSplits;
    int from = start + split * chunk;
    int to = min(from + chunk, p + 1);

    float qr[KIRI_ATTN_DMAX];
    float acc[KIRI_ATTN_DMAX];
#pragma unroll
    for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
        int d = lane + 32 * i;
        qr[i] = d < headDim ? q[(long long) row * headDim + d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = KIRI_NEG_INF;
    float sum = 0.0f;
    const float* kh = kCache + (long long) kvh * capacity * headDim;
    const float* vh = vCache + (long long) kvh * capacity * headDim;
    for (int t = from + warp; t < to; t += KIRI_ATTN_WARPS) {
        const float* kt = kh + (long long) t * headDim;
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
            int d = lane + 32 * i;
            if (d < headDim) s += qr[i] * kt[d];
        }
        s = kiri_warp_sum(s) * scale;
        if (softcap > 0.0f) s = softcap * tanhf(s / softcap);
        float mNew = fmaxf(m, s);
        float c = expf(m - mNew);   // 0 when m is -inf
        float w = expf(s - mNew);
        sum = sum * c + w;
        const float* vt = vh + (long long) t * headDim;
#pragma unroll
        for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
            int d = lane + 32 * i;
            if (d < headDim) acc[i] = acc[i] * c + w * vt[d];
        }
        m = mNew;
    }
    if (lane == 0) {
        sm[warp] = m;
        ss[warp] = sum;
    }
#pragma unroll
    for (int i = 0; i < KIRI_ATTN_DMAX; i++) {
        int d = lane + 32 * i;
        if (d < headDim) sacc[warp][d] = acc[i];
    }
    __syncthreads();
    float* out = part + ((long long) row * nSplits + split) * (headDim + 2);
    float mAll = KIRI_NEG_INF;
    for (int w = 0; w < KIRI_ATTN_WARPS; w++) mAll = fmaxf(mAll, sm[w]);
    for (int d = threadIdx.x; d < headDim; d += blockDim.x) {
        float a = 0.0f;
        for (int w = 0; w < KIRI_ATTN_WARPS; w++) {
            if (sm[w] != KIRI_NEG_INF) a += sacc[w][d] * expf(sm[w] - mAll);
        }
        out[2 + d] = a;
    }
    if (threadIdx.x == 0) {
        float sAll = 0.0f;
        for (int w = 0; w < KIRI_ATTN_WARPS; w++) {
            if (sm[w] != KIRI_NEG_INF) sAll += ss[w] * expf(sm[w] - mAll);
        }
        out[0] = mAll;
        out[1] = sAll;
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

// Normalisation, rotary positions and elementwise operations on F32 activations.
// Row-wise kernels take one block per row (gridDim.x = rows); elementwise kernels take one
// thread per element (any 1-D grid that covers n).
#include "common.cuh"

// out[r*size + i] = x[r*size + i] / sqrt(mean(x_r^2) + eps) * weight[i]; weight may be null.
// blockDim.x: a multiple of 32, at most 1024.
extern "C" __global__ void kiri_rmsnorm(float* __restrict__ out, const float* __restrict__ x,
        const float* __restrict__ weight, int size, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long) blockIdx.x * size;
    float* o = out + (long long) blockIdx.x * size;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < size; i += blockDim.x) ss += xr[i] * xr[i];
    ss = kiri_block_sum(ss, scratch);
    float inv = rsqrtf(ss / (float) size + eps);
    for (int i = threadIdx.x; i < size; i += blockDim.x) {
        float v = xr[i] * inv;
        o[i] = weight != 0 ? v * weight[i] : v;
    }
}

// Rotary embedding in place for gridDim.y tokens at positions pos[0] + blockIdx.y, each with
// nHeads heads of headDim; only the first ropeDim dimensions of a head rotate. cos/sin are the
// tables of RopeTable: [position][ropeDim/2]. neox 0 pairs (2i, 2i+1), 1 pairs (i, i + ropeDim/2).
// One thread per (head, pair): blockDim.x * gridDim.x >= nHeads * ropeDim/2.
extern "C" __global__ void kiri_rope(float* __restrict__ x, const int* __restrict__ pos, int nHeads, int headDim,
        int ropeDim, const float* __restrict__ cosTable, const float* __restrict__ sinTable, int neox) {
    int half = ropeDim / 2;
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= nHeads * half) return;
    int h = t / half;
    int i = t % half;
    int p = pos[0] + blockIdx.y;
    float* base = x + ((long long) blockIdx.y * nHeads + h) * headDim;
    int a = neox ? i : 2 * i;
    int b = neox ? i + half : 2 * i + 1;
    float c = cosTable[(long long) p * half + i];
    float s = sinTable[(long long) p * half + i];
    float x0 = base[a];
    float x1 = base[b];
    base[a] = x0 * c - x1 * s;
    base[b] = x0 * s + x1 * c;
}

static __device__ __forceinline__ float kiri_silu(float g) {
    return g / (1.0f + expf(-g));
}

// GELU (tanh form) the way the CPU path evaluates it: the argument rounded to F16, the result
// rounded to F16, identity above 10 and zero below -10. 0.5*(1 + tanh(z)) is evaluated as the
// logistic 1/(1 + exp(-2z)): in float, 1 + tanh(z) cancels to nothing for negative z while the
// CPU's table, made in double, still holds small negative values there.
static __device__ __forceinline__ float kiri_gelu(float x) {
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    float h = kiri_f16(kiri_to_f16(x));
    float z = 0.7978845608028654f * h * (1.0f + 0.044715f * h * h);
    float g = h / (1.0f + expf(-2.0f * z));
    return kiri_f16(kiri_to_f16(g));
}

#define KIRI_ELEM int i = blockIdx.x * blockDim.x + threadIdx.x; if (i >= n) return;

extern "C" __global__ void kiri_silu_inplace(float* x, int n) { KIRI_ELEM x[i] = kiri_silu(x[i]); }

extern "C" __global__ void kiri_gelu_inplace(float* x, int n) { KIRI_ELEM x[i] = kiri_gelu(x[i]); }

extern "C" __global__ void kiri_swiglu(float* out, const float* gate, const float* up, int n) {
    KIRI_ELEM out[i] = kiri_silu(gate[i]) * up[i];
}

extern "C" __global__ void kiri_geglu(float* out, const float* gate, const float* up, int n) {
    KIRI_ELEM out[i] = kiri_gelu(gate[i]) * up[i];
}

extern "C" __global__ void kiri_add(float* out, const float* a, const float* b, int n) {
    KIRI_ELEM out[i] = a[i] + b[i];
}

extern "C" __global__ void kiri_mul(float* out, const float* a, const float* b, int n) {
    KIRI_ELEM out[i] = a[i] * b[i];
}

// Row broadcast: x[r*cols + c] += bias[c] for the n = rows * cols elements of x (biases of a batch).
extern "C" __global__ void kiri_add_rows(float* x, const float* bias, int cols, int n) {
    KIRI_ELEM x[i] += bias[i % cols];
}

extern "C" __global__ void kiri_scale(float* x, float s, int n) { KIRI_ELEM x[i] *= s; }

extern "C" __global__ void kiri_softcap(float* x, float cap, int n) {
    KIRI_ELEM x[i] = cap * tanhf(x[i] / cap);
}

// Writes the keys and values of gridDim.y tokens (each kvHeads*headDim floats, token-major)
// into an F32 cache laid out [kvHeads][capacity][headDim], at positions pos[0] + blockIdx.y.
extern "C" __global__ void kiri_kv_store(float* __restrict__ kCache, float* __restrict__ vCache,
        const float* __restrict__ k, const float* __restrict__ v, const int* __restrict__ pos,
        int kvHeads, int headDim, int capacity) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= kvHeads * headDim) return;
    int h = t / headDim;
    int d = t % headDim;
    int p = pos[0] + blockIdx.y;
    if (p < 0 || p >= capacity) return;
    long long dst = ((long long) h * capacity + p) * headDim + d;
    long long src = (long long) blockIdx.y * kvHeads * headDim + t;
    kCache[dst] = k[src];
    vCache[dst] = v[src];
}

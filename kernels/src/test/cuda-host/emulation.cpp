// CPU emulation of the Kiri CUDA kernels, for tests on machines without a GPU.
//
// The .cu files are compiled as C++ (g++ -std=c++20 -pthread) under a prelude that provides
// the CUDA built-ins the kernels use: every thread of a block is a std::thread, __syncthreads
// is a block-wide std::barrier, __shfl_xor_sync exchanges values through a per-warp slot array
// between two per-warp barriers, __shared__ variables are statics (blocks run one after
// another), vector types are aligned structs and common.cuh's load helpers check alignment.
// This checks indexing, reductions and arithmetic; not speed, nor the JIT.
//
// Protocol (little-endian binary, written by CudaEmulationTest), on stdin:
//   int buffers; per buffer: long bytes, then the bytes
//   int launches; per launch: int nameLength, name, int gridX, gridY, blockX, int args,
//     per arg: int kind (0 buffer: int id, long byteOffset; 1 int; 2 long long; 3 float)
// and on stdout every buffer's final bytes, in order.
#define KIRI_HOST_EMULATION 1
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
static inline float2 make_float2(float x, float y) { return {x, y}; }
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
static inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }

struct KiriDim { int x, y, z; };
static thread_local KiriDim threadIdx, blockIdx;
static KiriDim blockDim, gridDim;
static std::barrier<>* kiri_block_barrier;
static std::unique_ptr<std::barrier<>> kiri_warp_barrier[32];
static float kiri_slots[32][32];

static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
// Byte n of the result: byte (s >> 4n) & 7 of the 8 bytes y:x (x the low four).
static inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
    unsigned long long v = ((unsigned long long) y << 32) | x;
    unsigned r = 0;
    for (int n = 0; n < 4; n++) r |= (unsigned) ((v >> (8 * ((s >> (4 * n)) & 7))) & 0xFF) << (8 * n);
    return r;
}
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
static inline void __syncthreads() { kiri_block_barrier->arrive_and_wait(); }
static inline float __shfl_xor_sync(unsigned, float v, int o) {
    int w = threadIdx.x / 32, lane = threadIdx.x % 32;
    kiri_slots[w][lane] = v;
    kiri_warp_barrier[w]->arrive_and_wait();
    float r = kiri_slots[w][lane ^ o];
    kiri_warp_barrier[w]->arrive_and_wait();
    return r;
}
static inline void __syncwarp() { kiri_warp_barrier[threadIdx.x / 32]->arrive_and_wait(); }
using std::max;
using std::min;

// The few WMMA functions gemm.cu uses, for TF32 m16n16k8 with F32 accumulators. Every thread of a
// warp holds a whole 16x16 (or 16x8, 8x16) fragment; lane 0 does the warp's work (the products
// and the store) and the other lanes' copies are never read, since the kernels touch fragments
// only through these calls. As the hardware, the multiply reads only the TF32 bits of its inputs
// (the low 13 mantissa bits are dropped), forms exact products and accumulates in F32, in k order.
namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision { struct tf32 {}; }
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment;
template <class Layout> struct fragment<matrix_a, 16, 16, 8, precision::tf32, Layout> { float v[16][8]; };
template <class Layout> struct fragment<matrix_b, 16, 16, 8, precision::tf32, Layout> { float v[8][16]; };
template <> struct fragment<accumulator, 16, 16, 8, float, void> { float v[16][16]; };

static inline float __float_to_tf32(float f) {  // round to nearest, ties away from zero, to 10 mantissa bits
    unsigned int u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
    memcpy(&f, &u, 4);
    return f;
}

static inline float kiri_tf32_bits(float f) {  // what the tensor cores read of an F32 register
    unsigned int u;
    memcpy(&u, &f, 4);
    u &= 0xffffe000u;
    memcpy(&f, &u, 4);
    return f;
}

static inline bool kiri_lane0() { return threadIdx.x % 32 == 0; }

static inline void fill_fragment(fragment<accumulator, 16, 16, 8, float, void>& f, float v) {
    for (auto& r : f.v) for (auto& e : r) e = v;
}

static inline void load_matrix_sync(fragment<matrix_a, 16, 16, 8, precision::tf32, row_major>& f, const float* p, unsigned ldm) {
    if (!kiri_lane0()) return;
    for (int m = 0; m < 16; m++) for (int k = 0; k < 8; k++) f.v[m][k] = p[m * ldm + k];
}

static inline void load_matrix_sync(fragment<matrix_b, 16, 16, 8, precision::tf32, col_major>& f, const float* p, unsigned ldm) {
    if (!kiri_lane0()) return;
    for (int n = 0; n < 16; n++) for (int k = 0; k < 8; k++) f.v[k][n] = p[n * ldm + k];
}

template <class LA, class LB>
static inline void mma_sync(fragment<accumulator, 16, 16, 8, float, void>& d,
                            const fragment<matrix_a, 16, 16, 8, precision::tf32, LA>& a,
                            const fragment<matrix_b, 16, 16, 8, precision::tf32, LB>& b,
                            const fragment<accumulator, 16, 16, 8, float, void>& c) {
    if (!kiri_lane0()) return;
    for (int m = 0; m < 16; m++) {
        for (int n = 0; n < 16; n++) {
            float s = c.v[m][n];
            for (int k = 0; k < 8; k++) s += kiri_tf32_bits(a.v[m][k]) * kiri_tf32_bits(b.v[k][n]);
            d.v[m][n] = s;
        }
    }
}

static inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 8, float, void>& f, unsigned ldm, layout_t l) {
    if (!kiri_lane0()) return;
    for (int m = 0; m < 16; m++) {
        for (int n = 0; n < 16; n++) p[l == mem_col_major ? m + n * ldm : m * ldm + n] = f.v[m][n];
    }
}
}  // namespace nvcuda::wmma

// cvt.rna.tf32.f32: round to 10 mantissa bits, ties away from zero (the bit pattern).
static inline unsigned kiri_tf32_rna(float x) {
    float f = nvcuda::wmma::__float_to_tf32(x);
    unsigned u;
    memcpy(&u, &f, 4);
    return u;
}

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 d, a, b, d with the fragment layouts of the
// PTX ISA (groupID g = lane / 4, t = lane % 4): A a0 (g, t), a1 (g + 8, t), a2 (g, t + 4),
// a3 (g + 8, t + 4); B b0 (row t, col g), b1 (t + 4, g); C/D c0 (g, 2t), c1 (g, 2t + 1),
// c2 (g + 8, 2t), c3 (g + 8, 2t + 1). Every lane publishes its registers, then computes its own
// four results from the gathered matrices (products of TF32 bits, F32 sums in k order).
static float kiri_mma_slots[32][32][10];
static inline void kiri_mma_tf32(float* d, const unsigned* a, unsigned b0, unsigned b1) {
    int w = threadIdx.x / 32, lane = threadIdx.x % 32;
    float* mine = kiri_mma_slots[w][lane];
    for (int i = 0; i < 4; i++) mine[i] = __uint_as_float(a[i]);
    mine[4] = __uint_as_float(b0);
    mine[5] = __uint_as_float(b1);
    for (int i = 0; i < 4; i++) mine[6 + i] = d[i];
    kiri_warp_barrier[w]->arrive_and_wait();
    auto A = [&](int r, int k) { return kiri_mma_slots[w][(r % 8) * 4 + k % 4][(r >= 8) + 2 * (k >= 4)]; };
    auto B = [&](int k, int c) { return kiri_mma_slots[w][c * 4 + k % 4][4 + (k >= 4)]; };
    auto C = [&](int r, int c) { return kiri_mma_slots[w][(r % 8) * 4 + c / 2][6 + c % 2 + 2 * (r >= 8)]; };
    int g = lane >> 2, t = lane & 3;
    float res[4];
    for (int i = 0; i < 4; i++) {
        int r = g + 8 * (i / 2), c = 2 * t + i % 2;
        float acc = C(r, c);
        for (int k = 0; k < 8; k++) acc += nvcuda::wmma::kiri_tf32_bits(A(r, k)) * nvcuda::wmma::kiri_tf32_bits(B(k, c));
        res[i] = acc;
    }
    kiri_warp_barrier[w]->arrive_and_wait();
    for (int i = 0; i < 4; i++) d[i] = res[i];
}

#include "matvec.cu"
#include "ops.cu"
#include "attention.cu"
#include "gemm.cu"

struct Arg {
    void* p;
    long long l;
    float f;
    template <class T> operator T*() const { return (T*) p; }
    operator int() const { return (int) l; }
    operator long long() const { return l; }
    operator float() const { return f; }
};

template <class... A, size_t... I>
static void kiri_call(void (*k)(A...), const Arg* a, std::index_sequence<I...>) { k(a[I]...); }

template <class... A>
static std::pair<size_t, std::function<void(const Arg*)>> kiri_wrap(void (*k)(A...)) {
    return {sizeof...(A), [k](const Arg* a) { kiri_call(k, a, std::index_sequence_for<A...>{}); }};
}

#define KIRI_KERNEL(name) {#name, kiri_wrap(name)}
static const std::map<std::string, std::pair<size_t, std::function<void(const Arg*)>>> kKernels = {
    KIRI_KERNEL(kiri_matvec_f32), KIRI_KERNEL(kiri_matvec_f16), KIRI_KERNEL(kiri_matvec_bf16),
    KIRI_KERNEL(kiri_matvec_q8_0), KIRI_KERNEL(kiri_matvec_q4_0), KIRI_KERNEL(kiri_matvec_q4_k),
    KIRI_KERNEL(kiri_matvec_q6_k), KIRI_KERNEL(kiri_get_rows),
    KIRI_KERNEL(kiri_rmsnorm), KIRI_KERNEL(kiri_rope), KIRI_KERNEL(kiri_silu_inplace), KIRI_KERNEL(kiri_gelu_inplace),
    KIRI_KERNEL(kiri_swiglu), KIRI_KERNEL(kiri_geglu), KIRI_KERNEL(kiri_add), KIRI_KERNEL(kiri_mul), KIRI_KERNEL(kiri_add_rows),
    KIRI_KERNEL(kiri_scale), KIRI_KERNEL(kiri_softcap), KIRI_KERNEL(kiri_kv_store),
    KIRI_KERNEL(kiri_attn_split), KIRI_KERNEL(kiri_attn_split4), KIRI_KERNEL(kiri_attn_prefill), KIRI_KERNEL(kiri_attn_merge),
    KIRI_KERNEL(kiri_attn_flash64), KIRI_KERNEL(kiri_attn_flash128),
    KIRI_KERNEL(kiri_gemm_f32), KIRI_KERNEL(kiri_gemm_f16), KIRI_KERNEL(kiri_gemm_bf16), KIRI_KERNEL(kiri_gemm_q8_0),
    KIRI_KERNEL(kiri_gemm_q4_0), KIRI_KERNEL(kiri_gemm_q4_k), KIRI_KERNEL(kiri_gemm_q6_k),
    KIRI_KERNEL(kiri_gemm128_f32), KIRI_KERNEL(kiri_gemm128_f16), KIRI_KERNEL(kiri_gemm128_bf16), KIRI_KERNEL(kiri_gemm128_q8_0),
    KIRI_KERNEL(kiri_gemm128_q4_0), KIRI_KERNEL(kiri_gemm128_q4_k), KIRI_KERNEL(kiri_gemm128_q6_k),
};

// Runs a launch: blockX threads, each walking the blocks in order, a barrier between blocks.
static void kiri_launch(const std::function<void(const Arg*)>& k, const Arg* args, int gx, int gy, int bx) {
    gridDim = {gx, gy, 1};
    blockDim = {bx, 1, 1};
    std::barrier<> block(bx);
    kiri_block_barrier = &block;
    for (int w = 0; w < (bx + 31) / 32; w++) kiri_warp_barrier[w] = std::make_unique<std::barrier<>>(std::min(32, bx - 32 * w));
    std::vector<std::thread> threads;
    for (int t = 0; t < bx; t++) {
        threads.emplace_back([&, t] {
            threadIdx = {t, 0, 0};
            for (int y = 0; y < gy; y++) {
                for (int x = 0; x < gx; x++) {
                    blockIdx = {x, y, 0};
                    k(args);
                    block.arrive_and_wait();
                }
            }
        });
    }
    for (auto& t : threads) t.join();
}

static void fail(const std::string& m) {
    fprintf(stderr, "emulation: %s\n", m.c_str());
    exit(2);
}

template <class T> static T get() {
    T v;
    if (fread(&v, sizeof v, 1, stdin) != 1) fail("truncated input");
    return v;
}

int main() {
    int nBuffers = get<int>();
    std::vector<std::vector<unsigned char>> buffers(nBuffers);
    for (auto& b : buffers) {
        long long n = get<long long>();
        b.resize(n + 64);  // slack: a bug reads garbage rather than crashing the harness
        if (n > 0 && fread(b.data(), 1, n, stdin) != (size_t) n) fail("truncated buffer");
        b.resize(n);
    }
    int nLaunches = get<int>();
    for (int i = 0; i < nLaunches; i++) {
        int len = get<int>();
        std::string name(len, ' ');
        if (fread(name.data(), 1, len, stdin) != (size_t) len) fail("truncated name");
        int gx = get<int>(), gy = get<int>(), bx = get<int>(), nArgs = get<int>();
        std::vector<Arg> args(nArgs);
        for (auto& a : args) {
            int kind = get<int>();
            a = Arg{nullptr, 0, 0};
            if (kind == 0) {
                int id = get<int>();
                long long off = get<long long>();
                if (id < 0) a.p = nullptr;
                else if (id >= nBuffers || off < 0 || off > (long long) buffers[id].size()) fail("bad buffer argument");
                else a.p = buffers[id].data() + off;
            } else if (kind == 1) a.l = get<int>();
            else if (kind == 2) a.l = get<long long>();
            else if (kind == 3) a.f = get<float>();
            else fail("bad argument kind");
        }
        auto k = kKernels.find(name);
        if (k == kKernels.end()) fail("no kernel " + name);
        if (k->second.first != args.size()) fail(name + ": " + std::to_string(args.size()) + " arguments, kernel takes " + std::to_string(k->second.first));
        if (bx <= 0 || bx > 1024 || gx <= 0 || gy <= 0) fail(name + ": bad launch shape");
        kiri_launch(k->second.second, args.data(), gx, gy, bx);
    }
    for (auto& b : buffers) fwrite(b.data(), 1, b.size(), stdout);
    return 0;
}

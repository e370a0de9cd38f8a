// What several built-in kernels share, so that their arithmetic is one definition: the weight
// types and their exact widening to f32, the warp's sum of 32 lane partials, and mix64. The daemon puts
// this file ahead of every built-in in the one source NVRTC compiles, and the CMake build
// pre-includes it in each kernel it compiles alone.
// Compile without --use_fast_math or --ftz=true: the host references keep denormals.

// Weights in f32, IEEE half or bfloat16: Storage is how they are stored, load(p, i) element i widened to f32.
struct F32
{
    typedef float Storage;
    static __device__ __forceinline__ float load(const float* p, unsigned long long i)
    {
        return p[i];
    }
};

struct F16
{
    typedef unsigned short Storage;
    static __device__ __forceinline__ float load(const unsigned short* p, unsigned long long i)
    {
        float f;
        asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(p[i]));
        return f;
    }
};

struct Bf16
{
    typedef unsigned short Storage;
    static __device__ __forceinline__ float load(const unsigned short* p, unsigned long long i)
    {
        return __uint_as_float((unsigned int)p[i] << 16);
    }
};

// Lane 0 gets the sum of the warp's 32 partials, added as a shuffle tree (16, 8, 4, 2, 1 lanes
// apart), each addition rounded: the order gemv's host reference follows. Every lane must call it.
__device__ __forceinline__ float warp_sum_tree(float partial)
{
    for (unsigned int offset = 16u; offset > 0u; offset >>= 1)
    {
        partial = __fadd_rn(partial, __shfl_down_sync(0xffffffffu, partial, offset));
    }
    return partial;
}

// splitmix64's finaliser, modulo 2^64: checksum's word hash and sample_f32's draw.
__device__ __forceinline__ unsigned long long mix64(unsigned long long x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

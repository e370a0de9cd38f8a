// rmsnorm_f16 / rmsnorm_bf16: for each row r < rows of the f32 matrix x [rows, cols],
// y[r][c] = (x[r][c] × inv) × w[c], where inv = 1 / sqrt(sum of x[r][c]² / cols + eps) and w is cols
// weights in the named type, widened exactly to f32: the RMSNorm of Llama-family models.
// y may be x itself (in place): each warp reads its whole row before it writes any of it.
// Launch: 1-D with 256 threads per block (any multiple of 32 works); one warp per row, with a
// grid-stride loop over rows, exactly as gemv. Threads past the last full warp of a block idle; a
// block of fewer than 32 threads does nothing.
//
// The sum of squares is gemv's order, so the result does not depend on the launch shape: lane l
// accumulates columns l, l + 32, l + 64, ... with fused multiply-adds, then the warp sums the 32
// partials with a shuffle tree. Every other operation is one correctly rounded division, addition,
// square root or multiplication, so the host reference computes the same bits.
// Compile without --use_fast_math or --ftz=true (and --prec-div/--prec-sqrt left true): the host
// reference keeps denormals and rounds each operation once.

namespace rmsnorm_detail
{
template <typename Dtype>
__device__ __forceinline__ void normalize_rows(
    const float* x, const unsigned short* w, float* y, unsigned int rows, unsigned int cols, float eps)
{
    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warps_per_block = blockDim.x >> 5;
    const unsigned int warp_in_block = threadIdx.x >> 5;
    if (warp_in_block >= warps_per_block)
    {
        return;
    }

    const unsigned long long warp_stride = (unsigned long long)gridDim.x * warps_per_block;
    for (unsigned long long row = (unsigned long long)blockIdx.x * warps_per_block + warp_in_block; row < rows; row += warp_stride)
    {
        const unsigned long long row_start = row * cols;
        float acc = 0.0f;
        for (unsigned long long c = lane; c < cols; c += 32ull)
        {
            const float v = x[row_start + c];
            acc = __fmaf_rn(v, v, acc);
        }
        // Lane 0 holds the sum; every lane takes it before any lane writes, so y may alias x.
        const float sum = __shfl_sync(0xffffffffu, warp_sum_tree(acc), 0);
        const float mean = __fdiv_rn(sum, __uint2float_rn(cols));
        const float inv = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(mean, eps)));
        for (unsigned long long c = lane; c < cols; c += 32ull)
        {
            y[row_start + c] = __fmul_rn(__fmul_rn(x[row_start + c], inv), Dtype::load(w, c));
        }
    }
}
}

extern "C" __global__ void rmsnorm_f16(const float* x, const unsigned short* w, float* y, unsigned int rows, unsigned int cols, float eps)
{
    rmsnorm_detail::normalize_rows<F16>(x, w, y, rows, cols, eps);
}

extern "C" __global__ void rmsnorm_bf16(const float* x, const unsigned short* w, float* y, unsigned int rows, unsigned int cols, float eps)
{
    rmsnorm_detail::normalize_rows<Bf16>(x, w, y, rows, cols, eps);
}

// gemv_f32 / gemv_f16 / gemv_bf16: y[r] = sum over c of w[r * cols + c] * x[c], row-major weights
// in the named type, fp32 x, y and accumulation: the memory-bound matrix-vector product of an
// LLM decode step, used to generate realistic load.
// Launch: 1-D with 256 threads per block (any multiple of 32 works); one warp per row, with a
// grid-stride loop over rows, so about rows / 8 blocks (capped near a few per SM) suffices.
// Threads past the last full warp of a block idle; a block of fewer than 32 threads does nothing.
//
// Lane l accumulates columns l, l + 32, l + 64, ... with fused multiply-adds, then the warp sums
// the 32 partials with a shuffle tree (prelude.cuh); the host reference follows the same order exactly.
// Compile without --use_fast_math or --ftz=true: the host reference keeps denormals.

template <typename Dtype>
__device__ __forceinline__ void gemv_rows(
    const typename Dtype::Storage* w, const float* x, float* y, unsigned int rows, unsigned int cols)
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
            acc = __fmaf_rn(Dtype::load(w, row_start + c), x[c], acc);
        }
        acc = warp_sum_tree(acc);
        if (lane == 0u)
        {
            y[row] = acc;
        }
    }
}

extern "C" __global__ void gemv_f32(const float* w, const float* x, float* y, unsigned int rows, unsigned int cols)
{
    gemv_rows<F32>(w, x, y, rows, cols);
}

extern "C" __global__ void gemv_f16(const unsigned short* w, const float* x, float* y, unsigned int rows, unsigned int cols)
{
    gemv_rows<F16>(w, x, y, rows, cols);
}

extern "C" __global__ void gemv_bf16(const unsigned short* w, const float* x, float* y, unsigned int rows, unsigned int cols)
{
    gemv_rows<Bf16>(w, x, y, rows, cols);
}

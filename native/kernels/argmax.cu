// argmax_f32: out[r] = the column of the largest of the cols f32 values in row r of logits
// [rows, cols], as a u32, for each r < rows: greedy decoding. The values are ordered as numbers,
// with −0.0 equal to +0.0, and every NaN above every number (as torch.argmax has it); among equal
// values (or NaNs) the smallest column wins. That makes the answer a function of the row alone, the
// same whatever order the columns are compared in. A row of no columns (cols = 0) gives 0xFFFFFFFF.
// Launch: 1-D with 256 threads per block (any multiple of 32 works); one warp per row, with a
// grid-stride loop over rows, exactly as gemv. Threads past the last full warp of a block idle; a
// block of fewer than 32 threads does nothing.

namespace argmax_detail
{
// Whether value a at column ia comes before value b at column ib in the order above.
__device__ __forceinline__ bool ranks_above(float a, unsigned int ia, float b, unsigned int ib)
{
    // x != x only for a NaN, with no header to include.
    const bool a_nan = a != a;
    const bool b_nan = b != b;
    if (a_nan != b_nan)
    {
        return a_nan;
    }
    if (!a_nan && a != b)
    {
        return a > b;
    }
    return ia < ib;
}
}

extern "C" __global__ void argmax_f32(const float* logits, unsigned int* out, unsigned int rows, unsigned int cols)
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
        const float* values = logits + row * cols;
        // No column yet: loses to any column, −infinity included, on the index.
        float best = __uint_as_float(0xff800000u);
        unsigned int best_index = 0xffffffffu;
        for (unsigned int c = lane; c < cols; c += 32u)
        {
            if (argmax_detail::ranks_above(values[c], c, best, best_index))
            {
                best = values[c];
                best_index = c;
            }
            if (c > 0xffffffffu - 32u)
            {
                break;
            }
        }
        for (unsigned int offset = 16u; offset > 0u; offset >>= 1)
        {
            const float other = __shfl_down_sync(0xffffffffu, best, offset);
            const unsigned int other_index = __shfl_down_sync(0xffffffffu, best_index, offset);
            if (argmax_detail::ranks_above(other, other_index, best, best_index))
            {
                best = other;
                best_index = other_index;
            }
        }
        if (lane == 0u)
        {
            out[row] = best_index;
        }
    }
}

// sample_f32: out[r] = a token drawn from row r of the f32 logits [rows, cols], for each r < rows,
// with temperature, top-k and top-p (nucleus) sampling, seeded so that a draw depends only on
// (seed, step, r) and the row, never on the launch's shape. As a u32 column, 0xFFFFFFFF for a row
// with no candidate (cols = 0, or every value NaN).
//  1. Candidates: the k = top_k (0, or more than 64, meaning 64) highest values of the row, NaNs
//     left out, ordered from the highest down, the smaller column first among equal values
//     (−0.0 equal to +0.0); fewer where the row has fewer. v[0] is the highest.
//  2. Greedy: with temperature not above 0 (or NaN), or v[0] infinite, the answer is candidate 0.
//  3. Weights: w[j] = expf((v[j] − v[0]) / temperature), the difference and the quotient rounded.
//     total = w[0] + w[1] + ... in that order, each addition rounded.
//  4. Top-p: with top_p < 1, only the first m candidates stay, m the smallest count whose running
//     sum (in the same order) reaches top_p × total (rounded); top_p ≤ 0 keeps candidate 0 alone.
//     Otherwise m is every candidate. kept = w[0] + ... + w[m − 1], in order.
//  5. Draw: x = mix64(seed ^ mix64((step << 32) | r)), all modulo 2^64 (mix64 is splitmix64's
//     finaliser, as checksum's); u = (x >> 40) × 2^−24, exactly, in [0, 1); target = u × kept,
//     rounded. The answer is the first candidate j < m whose running sum w[0] + ... + w[j] is above
//     target, or candidate m − 1 if none is.
// Everything but expf is exact or one IEEE rounding, the same on host and device. expf is within
// 2 ulp on the device and 1 on the host, so a draw can pick a neighbouring candidate where target
// lies within about 2^−18 × kept of a running sum; elsewhere the choice is the same bit for bit.
// Launch: 1-D with 256 threads per block (any multiple of 32, at most 1024); one warp per row, with
// a grid-stride loop over rows, as argmax; the warp makes k passes over its row, one per candidate.

namespace sample_detail
{
const unsigned int max_k = 64u;
const unsigned int max_warps = 32u;

// Whether value a at column ia comes before value b at column ib; neither is a NaN.
__device__ __forceinline__ bool ranks_above(float a, unsigned int ia, float b, unsigned int ib)
{
    return a != b ? a > b : ia < ib;
}

__device__ unsigned int choose(
    const float* v, const unsigned int* index, unsigned int n, unsigned long long seed, unsigned int step,
    unsigned long long row, float temperature, float top_p)
{
    if (n == 0u)
    {
        return 0xffffffffu;
    }
    const float infinity = __uint_as_float(0x7f800000u);
    if (!(temperature > 0.0f) || v[0] == infinity || v[0] == -infinity)
    {
        return index[0];
    }

    float w[max_k];
    float total = 0.0f;
    for (unsigned int j = 0; j < n; ++j)
    {
        w[j] = expf(__fdiv_rn(__fsub_rn(v[j], v[0]), temperature));
        total = __fadd_rn(total, w[j]);
    }

    unsigned int m = n;
    if (top_p < 1.0f)
    {
        const float cut = __fmul_rn(top_p, total);
        float running = 0.0f;
        for (unsigned int j = 0; j < n; ++j)
        {
            running = __fadd_rn(running, w[j]);
            if (running >= cut)
            {
                m = j + 1u;
                break;
            }
        }
    }

    float kept = 0.0f;
    for (unsigned int j = 0; j < m; ++j)
    {
        kept = __fadd_rn(kept, w[j]);
    }

    const unsigned long long x = mix64(seed ^ mix64(((unsigned long long)step << 32) | row));
    const float u = __fmul_rn(__uint2float_rn((unsigned int)(x >> 40)), 5.9604644775390625e-8f);
    const float target = __fmul_rn(u, kept);
    float running = 0.0f;
    for (unsigned int j = 0; j < m; ++j)
    {
        running = __fadd_rn(running, w[j]);
        if (running > target)
        {
            return index[j];
        }
    }
    return index[m - 1u];
}
}

extern "C" __global__ void sample_f32(
    const float* logits, unsigned int* out, unsigned int rows, unsigned int cols, unsigned long long seed, unsigned int step,
    float temperature, unsigned int top_k, float top_p)
{
    // Only each warp's lane 0 touches its row of these, so no synchronisation is needed.
    __shared__ float candidate_values[sample_detail::max_warps][sample_detail::max_k];
    __shared__ unsigned int candidate_columns[sample_detail::max_warps][sample_detail::max_k];

    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warps_per_block = blockDim.x >> 5;
    const unsigned int warp_in_block = threadIdx.x >> 5;
    if (warp_in_block >= warps_per_block)
    {
        return;
    }

    const unsigned int k = top_k == 0u || top_k > sample_detail::max_k ? sample_detail::max_k : top_k;
    const float no_value = __uint_as_float(0xff800000u);
    const unsigned long long warp_stride = (unsigned long long)gridDim.x * warps_per_block;
    for (unsigned long long row = (unsigned long long)blockIdx.x * warps_per_block + warp_in_block; row < rows; row += warp_stride)
    {
        const float* values = logits + row * cols;
        float previous = 0.0f;
        unsigned int previous_column = 0u;
        unsigned int n = 0u;
        for (unsigned int j = 0; j < k; ++j)
        {
            // The best value ranked below the previous candidate; none yet loses to any column.
            float best = no_value;
            unsigned int best_column = 0xffffffffu;
            for (unsigned int c = lane; c < cols; c += 32u)
            {
                const float v = values[c];
                if (v == v
                    && (j == 0u || sample_detail::ranks_above(previous, previous_column, v, c))
                    && sample_detail::ranks_above(v, c, best, best_column))
                {
                    best = v;
                    best_column = c;
                }
                if (c > 0xffffffffu - 32u)
                {
                    break;
                }
            }
            for (unsigned int offset = 16u; offset > 0u; offset >>= 1)
            {
                const float other = __shfl_down_sync(0xffffffffu, best, offset);
                const unsigned int other_column = __shfl_down_sync(0xffffffffu, best_column, offset);
                if (sample_detail::ranks_above(other, other_column, best, best_column))
                {
                    best = other;
                    best_column = other_column;
                }
            }
            best = __shfl_sync(0xffffffffu, best, 0);
            best_column = __shfl_sync(0xffffffffu, best_column, 0);
            if (best_column == 0xffffffffu)
            {
                break;
            }
            if (lane == 0u)
            {
                candidate_values[warp_in_block][j] = best;
                candidate_columns[warp_in_block][j] = best_column;
            }
            previous = best;
            previous_column = best_column;
            n = j + 1u;
        }
        if (lane == 0u)
        {
            out[row] = sample_detail::choose(
                candidate_values[warp_in_block], candidate_columns[warp_in_block], n, seed, step, row, temperature, top_p);
        }
    }
}

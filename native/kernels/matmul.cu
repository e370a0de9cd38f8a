// matmul_f32 / matmul_f16 / matmul_bf16: y[t][r] = sum over c of w[r * cols + c] * x[t * cols + c]
// for t < tokens: a Linear layer (out = x · wᵀ, w in the Hugging Face [out, in] layout) applied to
// a batch of fp32 activation rows, with weights in the named type and fp32 accumulation. One
// kernel serves decode (tokens = the batch's requests, 1 to 64) and prefill (tokens = the
// prompt's length, any number): each warp reads a weight row once for a tile of 8 tokens.
// Launch: 1-D with 256 threads per block (any multiple of 32 works); one warp per (row, tile of
// 8 tokens), grid-stride over rows × ceil(tokens / 8), so about rows * ceil(tokens / 8) / 8 blocks
// (capped near a few per SM) suffices. Threads past the last full warp of a block idle; a block
// of fewer than 32 threads does nothing.
//
// Each (t, r) is summed exactly as gemv sums row r against x[t]: lane l accumulates columns
// l, l + 32, l + 64, ... with fused multiply-adds, then the warp sums the 32 partials with a
// shuffle tree; the host reference follows the same order exactly, so the result is bit-exact
// and does not depend on the tile or the launch's shape. It is not a tensor-core GEMM: prefill
// reads the weights ceil(tokens / 8) times (mostly from L2), the price of that fixed order.
// Compile without --use_fast_math or --ftz=true: the host reference keeps denormals.

#define MATMUL_TOKEN_TILE 8u

template <typename Dtype>
__device__ __forceinline__ void matmul_tiles(
    const typename Dtype::Storage* w, const float* x, float* y, unsigned int rows, unsigned int cols, unsigned int tokens)
{
    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warps_per_block = blockDim.x >> 5;
    const unsigned int warp_in_block = threadIdx.x >> 5;
    if (warp_in_block >= warps_per_block)
    {
        return;
    }

    // Consecutive warps take consecutive rows of one tile of tokens, so they share its activations in cache.
    const unsigned long long tiles = ((unsigned long long)tokens + MATMUL_TOKEN_TILE - 1ull) / MATMUL_TOKEN_TILE;
    const unsigned long long items = tiles * rows;
    const unsigned long long warp_stride = (unsigned long long)gridDim.x * warps_per_block;
    for (unsigned long long item = (unsigned long long)blockIdx.x * warps_per_block + warp_in_block; item < items; item += warp_stride)
    {
        const unsigned long long row = item % rows;
        const unsigned long long first_token = (item / rows) * MATMUL_TOKEN_TILE;
        // The same for every lane, so the shuffles below run on the whole warp.
        const unsigned long long left = (unsigned long long)tokens - first_token;
        const unsigned int count = left < MATMUL_TOKEN_TILE ? (unsigned int)left : MATMUL_TOKEN_TILE;
        const unsigned long long row_start = row * cols;

        float acc[MATMUL_TOKEN_TILE];
#pragma unroll
        for (unsigned int j = 0; j < MATMUL_TOKEN_TILE; ++j)
        {
            acc[j] = 0.0f;
        }
        for (unsigned long long c = lane; c < cols; c += 32ull)
        {
            const float weight = Dtype::load(w, row_start + c);
#pragma unroll
            for (unsigned int j = 0; j < MATMUL_TOKEN_TILE; ++j)
            {
                if (j < count)
                {
                    acc[j] = __fmaf_rn(weight, x[(first_token + j) * cols + c], acc[j]);
                }
            }
        }
#pragma unroll
        for (unsigned int j = 0; j < MATMUL_TOKEN_TILE; ++j)
        {
            if (j < count)
            {
                const float sum = warp_sum_tree(acc[j]);
                if (lane == 0u)
                {
                    y[(first_token + j) * rows + row] = sum;
                }
            }
        }
    }
}

extern "C" __global__ void matmul_f32(const float* w, const float* x, float* y, unsigned int rows, unsigned int cols, unsigned int tokens)
{
    matmul_tiles<F32>(w, x, y, rows, cols, tokens);
}

extern "C" __global__ void matmul_f16(const unsigned short* w, const float* x, float* y, unsigned int rows, unsigned int cols, unsigned int tokens)
{
    matmul_tiles<F16>(w, x, y, rows, cols, tokens);
}

extern "C" __global__ void matmul_bf16(const unsigned short* w, const float* x, float* y, unsigned int rows, unsigned int cols, unsigned int tokens)
{
    matmul_tiles<Bf16>(w, x, y, rows, cols, tokens);
}

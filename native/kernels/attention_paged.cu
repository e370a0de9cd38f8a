// attention_paged_f32: causal scaled-dot-product attention of one sequence's query tokens over its
// keys and values in a paged KV cache, all f32, with grouped-query heads (Llama 2/3, Qwen2,
// Mistral): out[t][h] = sum over visible positions j of softmax_j(scale * q[t][h] · k[j][g]) * v[j][g],
// where g = h * kv_heads / q_heads is the KV head that query head h shares with its group.
//
// Layout: q and out are [tokens][q_heads][head_dim]; k_cache and v_cache are [pages][page_tokens]
// [kv_heads][head_dim] each, in one buffer; page_table holds table_pages u32 page indices, entry i
// the cache page that holds positions i * page_tokens to (i + 1) * page_tokens - 1 of this sequence.
// Query token t is at position start_position + t and sees positions 0 to start_position + t: a
// prefill launches its prompt with start_position 0, a decode step its one new token at its
// position, after kv_append_f32 has stored that token's own key and value.
// One launch serves one sequence; a batch of sequences is one launch each.
//
// The page table is data in a buffer, which the daemon cannot check when it admits the launch,
// so the kernel checks every entry as it reads it instead of trusting it: a position whose
// logical page is at or past table_pages, or whose page index is at or past pages, is not
// visible (it takes no part in the softmax), and so is every position when kv_heads or
// page_tokens is 0. The footprint of each cache is then exactly pages × page_tokens × kv_heads ×
// head_dim floats, whatever the table holds. A query token that sees no position gets +0.0.
//
// Launch: 1-D with 256 threads per block (any multiple of 32 works); one warp per (token, query
// head), grid-stride over tokens × q_heads. Threads past the last full warp of a block idle.
//
// Arithmetic, per (t, h), in this order (the host reference follows it exactly):
// 1. Each visible position's score s_j = dot(q[t][h], k[j][g]) * scale, rounded, where the dot
//    has 32 lane partials (lane l takes dimensions l, l + 32, ... with fused multiply-adds, from
//    +0.0) summed by the same tree as gemv's; m = the largest score (from -inf, taking s_j when
//    s_j > m, in position order).
// 2. For each slice of 256 dimensions, each visible position in order: p = expf(s_j - m) (the
//    subtraction rounded), sum += p, acc[d] = fma(p, v[j][g][d], acc[d]) from +0.0; then
//    out[t][h][d] = acc[d] / sum. The scores are recomputed, bit for bit, rather than stored.
// Everything but expf is exactly rounded, so the result equals the reference's up to expf's
// error (CUDA's expf is within 2 ulp, the host's within 1): within 1e-5 relative of the largest
// |v| the query token sees.
// Compile without --use_fast_math or --ftz=true: expf must not become __expf.

#define ATTENTION_DIMS_PER_LANE 8u
#define ATTENTION_DIMS_PER_PASS (32u * ATTENTION_DIMS_PER_LANE)

// Where position pos's key (or value) of KV head g starts in its cache, or false when the
// position is not visible.
__device__ __forceinline__ bool attention_row(
    const unsigned int* page_table, unsigned long long pos, unsigned int kv_heads, unsigned int head_dim, unsigned int page_tokens,
    unsigned int pages, unsigned int table_pages, unsigned int g, unsigned long long* row)
{
    if (kv_heads == 0u || page_tokens == 0u)
    {
        return false;
    }
    const unsigned long long logical = pos / page_tokens;
    if (logical >= table_pages)
    {
        return false;
    }
    const unsigned int page = page_table[logical];
    if (page >= pages)
    {
        return false;
    }
    *row = (((unsigned long long)page * page_tokens + pos % page_tokens) * kv_heads + g) * head_dim;
    return true;
}

// The same value in every lane: an xor tree adds the same pairs as gemv's shuffle-down tree, in
// an order that differs only by commutation.
__device__ __forceinline__ float attention_score(const float* q, const float* k, unsigned int head_dim, float scale, unsigned int lane)
{
    float partial = 0.0f;
    for (unsigned int d = lane; d < head_dim; d += 32u)
    {
        partial = __fmaf_rn(q[d], k[d], partial);
    }
    for (unsigned int offset = 16u; offset > 0u; offset >>= 1)
    {
        partial = __fadd_rn(partial, __shfl_xor_sync(0xffffffffu, partial, offset));
    }
    return __fmul_rn(partial, scale);
}

extern "C" __global__ void attention_paged_f32(
    const float* q, const float* k_cache, const float* v_cache, const unsigned int* page_table, float* out,
    unsigned int tokens, unsigned int q_heads, unsigned int kv_heads, unsigned int head_dim,
    unsigned int page_tokens, unsigned int pages, unsigned int table_pages, unsigned int start_position, float scale)
{
    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warps_per_block = blockDim.x >> 5;
    const unsigned int warp_in_block = threadIdx.x >> 5;
    if (warp_in_block >= warps_per_block)
    {
        return;
    }

    const unsigned long long items = (unsigned long long)tokens * q_heads;
    const unsigned long long warp_stride = (unsigned long long)gridDim.x * warps_per_block;
    for (unsigned long long item = (unsigned long long)blockIdx.x * warps_per_block + warp_in_block; item < items; item += warp_stride)
    {
        const unsigned long long t = item / q_heads;
        const unsigned int h = (unsigned int)(item % q_heads);
        const unsigned int g = (unsigned int)((unsigned long long)h * kv_heads / q_heads);
        const float* q_row = q + item * head_dim;
        // Positions past the table are never visible, so the loops stop there, however far start_position points.
        const unsigned long long causal = (unsigned long long)start_position + t + 1ull;
        const unsigned long long paged = (unsigned long long)table_pages * page_tokens;
        const unsigned long long positions = causal < paged ? causal : paged;

        float m = __uint_as_float(0xff800000u); // -inf
        for (unsigned long long pos = 0; pos < positions; ++pos)
        {
            unsigned long long row = 0ull;
            if (attention_row(page_table, pos, kv_heads, head_dim, page_tokens, pages, table_pages, g, &row))
            {
                const float s = attention_score(q_row, k_cache + row, head_dim, scale, lane);
                if (s > m)
                {
                    m = s;
                }
            }
        }

        // 64-bit, so that a head_dim near 2^32 cannot wrap the slices round to the start.
        for (unsigned long long first = 0; first < head_dim; first += ATTENTION_DIMS_PER_PASS)
        {
            float acc[ATTENTION_DIMS_PER_LANE];
#pragma unroll
            for (unsigned int i = 0; i < ATTENTION_DIMS_PER_LANE; ++i)
            {
                acc[i] = 0.0f;
            }
            float sum = 0.0f;
            bool seen = false;
            for (unsigned long long pos = 0; pos < positions; ++pos)
            {
                unsigned long long row = 0ull;
                if (attention_row(page_table, pos, kv_heads, head_dim, page_tokens, pages, table_pages, g, &row))
                {
                    const float p = expf(__fsub_rn(attention_score(q_row, k_cache + row, head_dim, scale, lane), m));
                    sum = __fadd_rn(sum, p);
                    seen = true;
#pragma unroll
                    for (unsigned int i = 0; i < ATTENTION_DIMS_PER_LANE; ++i)
                    {
                        const unsigned long long d = first + i * 32u + lane;
                        if (d < head_dim)
                        {
                            acc[i] = __fmaf_rn(p, v_cache[row + d], acc[i]);
                        }
                    }
                }
            }
#pragma unroll
            for (unsigned int i = 0; i < ATTENTION_DIMS_PER_LANE; ++i)
            {
                const unsigned long long d = first + i * 32u + lane;
                if (d < head_dim)
                {
                    out[item * head_dim + d] = seen ? __fdiv_rn(acc[i], sum) : 0.0f;
                }
            }
        }
    }
}

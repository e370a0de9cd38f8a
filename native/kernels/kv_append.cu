// kv_append_f32: stores one sequence's new keys and values, k_new and v_new ([tokens][kv_heads]
// [head_dim] f32 each, token t at position start_position + t), into their slots of the paged
// K and V caches that attention_paged_f32 reads ([pages][page_tokens][kv_heads][head_dim] each):
// position j goes to slot j mod page_tokens of page page_table[j / page_tokens]. A decode step
// appends its one token before its attention; a prefill its whole prompt.
//
// The page table is data in a buffer, which the daemon cannot check at launch, so the kernel
// checks each entry as it reads it, as attention_paged_f32 does: a token whose logical page is at
// or past table_pages, or whose page index is at or past pages, is not stored (nor is anything
// when page_tokens is 0), and the caches' footprints hold whatever the table says. Two positions
// of one launch that a table maps to the same slot leave either one's row there.
//
// Launch: 1-D, any grid and block size (256 threads suits); one thread per float, grid-stride
// over tokens × kv_heads × head_dim. The floats' bits are copied unchanged.

extern "C" __global__ void kv_append_f32(
    const float* k_new, const float* v_new, float* k_cache, float* v_cache, const unsigned int* page_table,
    unsigned int tokens, unsigned int kv_heads, unsigned int head_dim, unsigned int page_tokens,
    unsigned int pages, unsigned int table_pages, unsigned int start_position)
{
    const unsigned long long row_floats = (unsigned long long)kv_heads * head_dim;
    const unsigned long long count = (unsigned long long)tokens * row_floats;
    if (page_tokens == 0u || count == 0ull)
    {
        return;
    }
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        const unsigned long long position = (unsigned long long)start_position + i / row_floats;
        const unsigned long long logical = position / page_tokens;
        if (logical >= table_pages)
        {
            continue;
        }
        const unsigned int page = page_table[logical];
        if (page >= pages)
        {
            continue;
        }
        const unsigned long long slot = ((unsigned long long)page * page_tokens + position % page_tokens) * row_floats + i % row_floats;
        k_cache[slot] = k_new[i];
        v_cache[slot] = v_new[i];
    }
}

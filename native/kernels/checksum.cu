// checksum: 64-bit checksum of device memory, to verify transfers and isolation between clients
// without copying the data back. Defined as the sum, modulo 2^64, over 32-bit word index i of
// mix64((i << 32) | word_i), where a final partial word is its bytes zero-extended little-endian.
// The sum is order-independent, so the result does not depend on the launch shape or on the
// order in which the atomics land.
// Launch: 1-D, any grid and block size (256 threads suits); the grid-stride loop covers all words.
// The caller must zero *out before the launch: every warp adds its partial sum to it.

extern "C" __global__ void checksum(const unsigned int* words, unsigned long long bytes, unsigned long long* out)
{
    const unsigned long long full_words = bytes >> 2;
    const unsigned int tail_bytes = (unsigned int)(bytes & 3ull);
    const unsigned long long word_count = full_words + (tail_bytes != 0u ? 1ull : 0ull);
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;

    unsigned long long sum = 0;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < word_count; i += stride)
    {
        unsigned int word;
        if (i < full_words)
        {
            word = words[i];
        }
        else
        {
            // Byte loads: the last word may run past the end of the allocation.
            const unsigned char* tail = (const unsigned char*)(words + i);
            word = 0u;
            for (unsigned int b = 0; b < tail_bytes; ++b)
            {
                word |= (unsigned int)tail[b] << (8u * b);
            }
        }
        sum += mix64((i << 32) | word);
    }

    const unsigned int lane = threadIdx.x & 31u;
    const unsigned int warp_first_thread = threadIdx.x - lane;
    if (blockDim.x - warp_first_thread >= 32u)
    {
        for (unsigned int offset = 16u; offset > 0u; offset >>= 1)
        {
            sum += __shfl_down_sync(0xffffffffu, sum, offset);
        }
        if (lane == 0u && sum != 0ull)
        {
            atomicAdd(out, sum);
        }
    }
    else if (sum != 0ull)
    {
        // A block size that is not a multiple of 32 leaves a partial last warp, where a
        // full-mask shuffle is undefined; its threads add their own sums instead.
        atomicAdd(out, sum);
    }
}

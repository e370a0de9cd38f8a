// embedding_f16 / embedding_bf16: out[t * hidden + c] = table[ids[t] * hidden + c] widened to f32,
// for each token t < tokens and column c < hidden: the rows of a [vocab, hidden] table in the named
// type, gathered by u32 token ids into f32 rows. The widening is exact (as gemv's), so the result is
// bit-exact on every device.
// A token id at or past vocab is not a row of the table: its output row is written as +0.0, so
// that no ids, however wrong, make the kernel read outside the table.
// Launch: 1-D, any grid and block size (256 threads suits); a grid-stride loop over the
// tokens × hidden outputs.

namespace embedding_detail
{
template <typename Dtype>
__device__ __forceinline__ void gather(
    const unsigned short* table, const unsigned int* ids, float* out, unsigned int tokens, unsigned int vocab, unsigned int hidden)
{
    const unsigned long long count = (unsigned long long)tokens * hidden;
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        const unsigned long long t = i / hidden;
        const unsigned long long c = i - t * hidden;
        const unsigned int id = ids[t];
        out[i] = id < vocab ? Dtype::load(table, (unsigned long long)id * hidden + c) : 0.0f;
    }
}
}

extern "C" __global__ void embedding_f16(
    const unsigned short* table, const unsigned int* ids, float* out, unsigned int tokens, unsigned int vocab, unsigned int hidden)
{
    embedding_detail::gather<F16>(table, ids, out, tokens, vocab, hidden);
}

extern "C" __global__ void embedding_bf16(
    const unsigned short* table, const unsigned int* ids, float* out, unsigned int tokens, unsigned int vocab, unsigned int hidden)
{
    embedding_detail::gather<Bf16>(table, ids, out, tokens, vocab, hidden);
}

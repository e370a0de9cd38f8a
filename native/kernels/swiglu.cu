// swiglu_f32: out[i] = silu(gate[i]) × up[i] for i < count, silu(g) = g / (1 + exp(−g)): the gated
// activation of a Llama-family MLP. Computed as ((g / (1 + expf(−g))) × up), each operation rounded
// to f32 on its own. CUDA's expf is within 2 ulp of the exact value and the host's within 1, so the
// result may differ from the host reference's by a few ulp: at most 2^-20 × |out| (plus the
// smallest subnormal, for results that small). out may be gate or up itself (in place).
// Launch: 1-D, any grid and block size (256 threads suits); a grid-stride loop over the elements.
// Compile without --use_fast_math: the fast expf is far less accurate.

extern "C" __global__ void swiglu_f32(const float* gate, const float* up, float* out, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        const float g = gate[i];
        const float silu = __fdiv_rn(g, __fadd_rn(1.0f, expf(-g)));
        out[i] = __fmul_rn(silu, up[i]);
    }
}

// bias_add_f16 / bias_add_bf16: y[r][c] = y[r][c] + bias[c] for the rows × cols f32 matrix y, in
// place, where bias is cols values in the named type widened exactly to f32: the biases of a Linear
// layer (Qwen2's q, k and v projections) added after its matmul. One rounded addition per element,
// so the result is bit-exact on every device.
// Launch: 1-D, any grid and block size (256 threads suits); a grid-stride loop over the elements.

namespace bias_add_detail
{
template <typename Dtype>
__device__ __forceinline__ void add_bias(float* y, const unsigned short* bias, unsigned int rows, unsigned int cols)
{
    const unsigned long long count = (unsigned long long)rows * cols;
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        y[i] = __fadd_rn(y[i], Dtype::load(bias, i % cols));
    }
}
}

extern "C" __global__ void bias_add_f16(float* y, const unsigned short* bias, unsigned int rows, unsigned int cols)
{
    bias_add_detail::add_bias<F16>(y, bias, rows, cols);
}

extern "C" __global__ void bias_add_bf16(float* y, const unsigned short* bias, unsigned int rows, unsigned int cols)
{
    bias_add_detail::add_bias<Bf16>(y, bias, rows, cols);
}

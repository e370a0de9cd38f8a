// add_f32: y[i] = y[i] + x[i] for i < count, rounded to f32: the residual add of a transformer
// layer, bit-exact on every device.
// Launch: 1-D, any grid and block size (256 threads suits); a grid-stride loop over the elements.

extern "C" __global__ void add_f32(float* y, const float* x, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        y[i] = __fadd_rn(y[i], x[i]);
    }
}

// fill_f32: sets every element of a float buffer to one value (initialises buffers for tests,
// benchmarks and clients that want a device-side memset of a non-zero pattern).
// Launch: 1-D, any grid and block size; the grid-stride loop covers all of `count`.

extern "C" __global__ void fill_f32(float* dst, float value, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        dst[i] = value;
    }
}

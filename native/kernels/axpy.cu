// axpy_f32: y[i] = a * x[i] + y[i], the simplest memory-bound streaming kernel (bandwidth checks,
// and a result the host can reproduce exactly).
// Launch: 1-D, any grid and block size; the grid-stride loop covers all of `count`.
// Compile without --use_fast_math or --ftz=true: the host reference keeps denormals.

extern "C" __global__ void axpy_f32(float* y, const float* x, float a, unsigned long long count)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        // Separately rounded multiply and add: no FMA contraction, so the host reference
        // (IEEE single precision, round to nearest) gives the same bits.
        y[i] = __fadd_rn(__fmul_rn(a, x[i]), y[i]);
    }
}

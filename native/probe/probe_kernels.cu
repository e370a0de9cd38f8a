// Kernels of the probe's own, for questions the built-in kernels cannot ask.

// Stores one word at a raw address: given one where nothing is mapped, it faults the context.
extern "C" __global__ void probe_store(unsigned long long address, unsigned int value)
{
    *(volatile unsigned int*)address = value;
}

// Uses dynamic shared memory, so that a launch asking for more than the default limit is one that
// would need it. Writes one word when given somewhere to write it.
extern "C" __global__ void probe_dynamic_shared(unsigned int* out)
{
    extern __shared__ unsigned int scratch[];
    scratch[threadIdx.x] = threadIdx.x;
    __syncthreads();
    if (out != 0 && threadIdx.x == 0)
    {
        out[blockIdx.x] = scratch[blockDim.x - 1];
    }
}

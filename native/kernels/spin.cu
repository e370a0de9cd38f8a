// spin: keeps the GPU busy for a given wall-clock time, measured with %globaltimer (ns), to
// exercise time slicing and scheduling between the daemon's clients with a kernel of known length.
// Launch: any grid and block shape; each block stays resident for about `microseconds`.
// Time the context spends switched out counts towards the wait, since the timer is wall-clock.

__device__ __forceinline__ unsigned long long global_timer_ns()
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

extern "C" __global__ void spin(unsigned long long microseconds)
{
    // Only thread 0 of a block waits. A block holds its place on the SM (registers, shared
    // memory) until its last thread exits, so the kernel still occupies what it was launched
    // with for the whole time, while the other warps leave their issue slots to whatever shares
    // the SM instead of polling the timer.
    if ((threadIdx.x | threadIdx.y | threadIdx.z) != 0)
    {
        return;
    }

    const unsigned long long max_us = 0xffffffffffffffffull / 1000ull;
    const unsigned long long wait_ns = microseconds > max_us ? 0xffffffffffffffffull : microseconds * 1000ull;
    const unsigned long long start = global_timer_ns();
    while (global_timer_ns() - start < wait_ns)
    {
    }
}

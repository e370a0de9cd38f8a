using GpuMux.Gpu.Cuda;
using GpuMux.Gpu.Cuda.Native;
using GpuMux.Gpu.Tests.Contract;

namespace GpuMux.Gpu.Tests.Cuda;

/// <summary>What only the CUDA backend does, on a real GPU. Skipped, with the reason, where the machine has none.</summary>
[Trait("Category", "Gpu")]
[Collection(nameof(CudaContractTests))]
public sealed unsafe class CudaBackendTests
{
    [Fact]
    public void The_primary_context_blocks_rather_than_spins_while_it_waits_for_the_device()
    {
        var backend = (CudaBackend)CudaBackendFixture.RequireBackend();
        using var context = backend.CreateContext(0);

        uint flags;
        int active;
        Assert.Equal(CUresult.CUDA_SUCCESS, CudaDriver.cuDevicePrimaryCtxGetState(backend.Handle(backend.Devices[0]), &flags, &active));

        Assert.Equal(1, active);
        Assert.Equal(CudaConstants.CU_CTX_SCHED_BLOCKING_SYNC, flags & CudaConstants.CU_CTX_SCHED_MASK);
    }
}

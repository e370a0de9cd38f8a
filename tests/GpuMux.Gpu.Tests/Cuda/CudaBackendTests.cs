using GpuMux.Gpu.Compilation;
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
    public void The_backend_names_its_driver_and_an_nvrtc_no_newer_than_it()
    {
        var backend = CudaBackendFixture.RequireBackend();

        var driver = Assert.IsType<Version>(backend.DriverVersion);
        var compiler = Assert.IsType<KernelCompilerInfo>(backend.Compiler);
        var nvrtc = Assert.IsType<Version>(compiler.Version);

        Assert.InRange(nvrtc.Major, 11, driver.Major);
        Assert.False(string.IsNullOrEmpty(compiler.LoadedFrom));
        Assert.Contains($"CUDA driver {driver}", backend.Description);
    }

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

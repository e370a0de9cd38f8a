using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests.Contract;

/// <summary>
/// What the engine's recovery from a sticky fault relies on: once the poisoned context is gone,
/// a reset of the device gives a context that computes correctly. cuda.h promises no such thing
/// (after such an error "the process must be terminated and relaunched"), so the GPU has the last
/// word. Apart from <see cref="GpuContractTests"/> because a reset that does not work would poison
/// every test after it in the process: scripts/gpu-check.sh runs the CUDA one in a process of its own.
/// </summary>
public abstract class FaultResetContractTests
{
    private const int Count = 1000;

    protected abstract GpuBackend Backend { get; }

    [Fact]
    public void After_a_sticky_fault_a_reset_device_gives_a_context_that_computes_correctly()
    {
        var faulted = new TestGpu(Backend);
        faulted.Kernels.Fill(faulted.Stream, new DevicePtr(0x1000), 1f, 16);
        var fault = Assert.ThrowsAny<GpuException>(() => faulted.Stream.Synchronize());
        Assert.True(fault.IsContextFatal, $"{fault.Status}: {fault.Message}");
        faulted.Dispose();

        Backend.ResetDevice(0);

        using var gpu = new TestGpu(Backend);
        var random = new Random(12);
        var x = TestData.Floats(random, Count);
        var y = TestData.Floats(random, Count);
        using var deviceX = gpu.Upload<float>(x);
        using var deviceY = gpu.Upload<float>(y);
        gpu.Kernels.Axpy(gpu.Stream, deviceY.Pointer, deviceX.Pointer, 0.75f, Count);
        KernelReference.Axpy(y, x, 0.75f);
        Assert.Equal(y, gpu.Download<float>(deviceY.Pointer, Count));
    }

    /// <summary>
    /// Nothing stops a running kernel but the end of its context: the engine's limit on a step's
    /// device time lets go of the context and resets the device, which must end a kernel that
    /// would otherwise spin for an hour, and leave a device that computes.
    /// </summary>
    [Fact]
    public async Task A_reset_ends_a_kernel_that_would_not_end_and_the_device_computes_after_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var result = await Task.Run(
            () =>
            {
                var stuck = new TestGpu(Backend);
                stuck.Kernels.Spin(stuck.Stream, TimeSpan.FromHours(1));
                // Time for the kernel to be running rather than queued, which any context's end drops.
                Thread.Sleep(100);
                stuck.Dispose();
                Backend.ResetDevice(0);

                using var gpu = new TestGpu(Backend);
                using var buffer = gpu.Context.Allocate(Count * sizeof(float));
                gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 2.5f, Count);
                return gpu.Download<float>(buffer.Pointer, Count);
            },
            ct).WaitAsync(TimeSpan.FromMinutes(2), ct);

        Assert.All(result, value => Assert.Equal(2.5f, value));
    }
}

public sealed class SimFaultResetContractTests : FaultResetContractTests
{
    protected override GpuBackend Backend { get; } = GpuBackends.CreateSim(new GpuBackendOptions { ModuleCacheDirectory = null });
}

/// <summary>Faults the GPU on purpose: its own trait, so that gpu-check.sh runs it apart from the other GPU tests.</summary>
[Trait("Category", "GpuFault")]
[Collection(nameof(CudaContractTests))]
public sealed class CudaFaultResetContractTests : FaultResetContractTests
{
    protected override GpuBackend Backend => CudaBackendFixture.RequireBackend();
}

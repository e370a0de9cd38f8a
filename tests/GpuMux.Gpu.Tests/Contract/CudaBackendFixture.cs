namespace GpuMux.Gpu.Tests.Contract;

/// <summary>The process's one CUDA backend, probed once; the tests that need it skip with the probe's reason where there is none.</summary>
internal static class CudaBackendFixture
{
    private static readonly Lazy<(GpuBackend? Backend, string? Reason)> Probe = new(() =>
    {
        var options = new GpuBackendOptions { ModuleCacheDirectory = Directory.CreateTempSubdirectory("gpumux-cuda-cache-").FullName };
        var backend = GpuBackends.TryCreateCuda(options, out var reason);
        return (backend, reason);
    });

    public static GpuBackend RequireBackend()
    {
        var (backend, reason) = Probe.Value;
        Assert.SkipWhen(backend is null, $"needs a CUDA GPU: {reason}");
        return backend!;
    }
}

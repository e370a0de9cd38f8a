using GpuMux.Gpu.Compilation;
using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu;

public sealed record GpuBackendOptions
{
    /// <summary>Where compiled modules are kept between runs; null keeps them in memory only.</summary>
    public string? ModuleCacheDirectory { get; init; } = ModuleCache.DefaultDirectory();

    public SimDeviceOptions Sim { get; init; } = new();
}

using GpuMux.Gpu.Cuda;
using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu;

public enum BackendPreference
{
    /// <summary>CUDA where a driver and a device are present, otherwise the simulator.</summary>
    Auto,
    Cuda,
    Sim,
}

/// <summary>The backend chosen, and, where CUDA was wanted but not used, why not.</summary>
public sealed record BackendSelection(GpuBackend Backend, string? CudaUnavailableReason);

public static class GpuBackends
{
    /// <summary>
    /// The CUDA backend, or null with the reason there is none (no driver library, no device, a
    /// driver that failed to initialise). A machine without a GPU is a normal answer here.
    /// </summary>
    public static GpuBackend? TryCreateCuda(GpuBackendOptions options, out string? unavailableReason) =>
        CudaBackend.TryCreate(options, out unavailableReason);

    public static GpuBackend CreateSim(GpuBackendOptions options) => new SimBackend(options);

    public static BackendSelection Select(BackendPreference preference, GpuBackendOptions options)
    {
        if (preference == BackendPreference.Sim)
        {
            return new BackendSelection(CreateSim(options), null);
        }
        var cuda = TryCreateCuda(options, out var reason);
        if (cuda is not null)
        {
            return new BackendSelection(cuda, null);
        }
        return preference == BackendPreference.Cuda
            ? throw new GpuException(GpuStatus.NoDevice, $"CUDA backend unavailable: {reason}")
            : new BackendSelection(CreateSim(options), reason);
    }
}

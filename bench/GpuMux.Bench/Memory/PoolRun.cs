using GpuMux.Gpu;

namespace GpuMux.Bench.Memory;

internal sealed record PoolRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    PoolOptions Options,
    IReadOnlyList<PoolCreation> Creations,
    IReadOnlyList<PoolMeasurement> Measurements)
{
    /// <summary>On the Sim the calls are counted as a GPU's would be, but the times are of the simulator's own mappings.</summary>
    public string Basis => BackendKind == GpuBackendKind.Cuda
        ? "measured (host time of the driver calls)"
        : "calls counted; times are the Sim's own host mappings, not a GPU's";
}

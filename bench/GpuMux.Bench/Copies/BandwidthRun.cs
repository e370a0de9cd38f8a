using GpuMux.Gpu;

namespace GpuMux.Bench.Copies;

/// <summary>Everything one run of the probe found, and what it ran on: the input to the report.</summary>
internal sealed record BandwidthRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    BandwidthOptions Options,
    IReadOnlyList<CopyMeasurement> Measurements)
{
    /// <summary>How the figures were obtained; the simulator's are the model's, not a measurement of anything.</summary>
    public string Basis => BackendKind == GpuBackendKind.Sim ? "simulated (Sim backend, not a GPU figure)" : "measured (CUDA events)";

    public bool AllVerified => Measurements.All(m => m.Verified);
}

using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

/// <summary>Everything one run of the interactive benchmark found, and what it ran on: the input to the report.</summary>
internal sealed record InteractiveRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    InteractiveOptions Options,
    IReadOnlyList<InteractiveCaseRun> Cases)
{
    public bool IsModelled => BackendKind == GpuBackendKind.Sim;

    public InteractiveCaseRun Idle => Cases.Single(c => !c.Case.IsLoaded);
}

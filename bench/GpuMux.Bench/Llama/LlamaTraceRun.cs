using GpuMux.Bench.Scheduling;
using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;

namespace GpuMux.Bench.Llama;

/// <summary>Everything one run of the Llama trace found, and what it ran on: the input to the report.</summary>
internal sealed record LlamaTraceRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    LlamaTraceSetup Setup,
    ZipfPopularity Popularity,
    IReadOnlyList<LlamaPolicyRun> Runs,
    LlamaTokenCheck Check,
    LlamaWakeResult? Wake)
{
    /// <summary>The shares of requests meeting both objectives at which a rate counts as sustained.</summary>
    public static IReadOnlyList<double> Targets { get; } = [0.9, 0.99];

    public LlamaTraceParameters Parameters => Setup.Parameters;

    public bool IsModelled => BackendKind == GpuBackendKind.Sim;

    public IEnumerable<LlamaPolicyRun> Of(SchedulingPolicy policy) => Runs.Where(r => r.Policy == policy).OrderBy(r => r.Rate);

    /// <summary>The highest swept rate at which at least <paramref name="target"/> of the requests met both objectives; null when none did.</summary>
    public double? SustainableRate(SchedulingPolicy policy, double target) =>
        Of(policy).Where(r => r.Attainment >= target).Select(r => (double?)r.Rate).Max();
}

using GpuMux.Bench.Copies;
using GpuMux.Gpu;

namespace GpuMux.Bench.Models;

/// <summary>The copy probe's host-to-device figures for one byte count: the device's pinned peak and a copy from pageable memory.</summary>
internal sealed record CopyBaseline(ulong Bytes, CopyMeasurement Pinned, CopyMeasurement Pageable)
{
    /// <summary>The pinned peak, as the median of the probe's copies, in bytes per second.</summary>
    public double PinnedRate => Pinned.Rates.Median * 1e9;

    public double PageableRate => Pageable.Rates.Median * 1e9;

    public bool Verified => Pinned.Verified && Pageable.Verified;
}

/// <summary>Everything one run found, and what it ran on: the input to the report.</summary>
internal sealed record SwapRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    SwapOptions Options,
    IReadOnlyList<int> SizesMib,
    IReadOnlyDictionary<ulong, CopyBaseline> Baselines,
    IReadOnlyList<ModelRun> Sizes,
    IReadOnlyList<ModelRun> Sweep)
{
    /// <summary>The share of the pinned peak that swap-ins of 1 GiB and more should reach.</summary>
    public const double Goal = 0.95;

    public bool IsModelled => BackendKind == GpuBackendKind.Sim;

    public string Basis => IsModelled
        ? "modelled (Sim backend: copies take the configured bandwidth's time, or the host's memcpy time if longer; kernels the modelled time, or the host reference's if longer)"
        : "measured (CUDA events)";

    public string ShortBasis => IsModelled ? "modelled (Sim)" : "measured";

    public bool AllVerified => Baselines.Values.All(b => b.Verified) && Sizes.Concat(Sweep).All(r => r.AllVerified);

    public CopyBaseline BaselineFor(ModelRun run) => Baselines[run.Geometry.Bytes];
}

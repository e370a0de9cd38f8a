using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

/// <summary>Everything one run of the trace benchmark found, and what it ran on: the input to the report.</summary>
internal sealed record TraceRun(
    RunEnvironment Environment,
    GpuBackendKind BackendKind,
    string BackendDescription,
    string? CudaUnavailableReason,
    GpuDeviceInfo Device,
    TraceParameters Parameters,
    ZipfPopularity Popularity,
    IReadOnlyList<PolicyRun> Runs)
{
    /// <summary>The share of steps on time that a rate must reach to count as sustained.</summary>
    public const double Target = 0.99;

    /// <summary>The figures the trace is run for: how much further the step policy goes than the request policy, and how many models it serves.</summary>
    public const double StepOverRequestGoal = 2;

    public const int ModelsServedGoal = 10;

    public static IReadOnlyList<SchedulingPolicy> Policies { get; } = [SchedulingPolicy.Step, SchedulingPolicy.Request, SchedulingPolicy.Dedicated];

    public bool IsModelled => BackendKind == GpuBackendKind.Sim;

    public bool AllVerified => Runs.All(r => r.WrongResults == 0);

    public bool AnyFailures => Runs.Any(r => r.Failures.Count > 0);

    public IEnumerable<PolicyRun> Of(SchedulingPolicy policy) => Runs.Where(r => r.Policy == policy).OrderBy(r => r.Rate);

    public PolicyRun At(SchedulingPolicy policy, double rate) => Runs.Single(r => r.Policy == policy && r.Rate == rate);

    /// <summary>The highest swept rate whose share of steps on time reached <see cref="Target"/>; null when none did.</summary>
    public double? SustainableRate(SchedulingPolicy policy) => Highest(policy, r => r.Attainment);

    /// <summary>The same, by the share of steps within one objective of the step before.</summary>
    public double? SustainableRateByGap(SchedulingPolicy policy) => Highest(policy, r => r.GapAttainment);

    public double LowestRate => Parameters.Rates[0];

    private double? Highest(SchedulingPolicy policy, Func<PolicyRun, double> attainment) =>
        Of(policy).Where(r => attainment(r) >= Target).Select(r => (double?)r.Rate).Max();
}

using System.Globalization;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// The many-model trace: <see cref="Models"/> models of <see cref="ModelMib"/> MiB, their
/// popularity Zipf(<see cref="ZipfExponent"/>) by rank, requests arriving as a Poisson process
/// for <see cref="DurationSeconds"/> at each of <see cref="Rates"/>, each of a uniform number of
/// decode steps in [<see cref="MinSteps"/>, <see cref="MaxSteps"/>], each step
/// <see cref="StepComputeMicroseconds"/> of device time; all drawn from <see cref="Seed"/>.
/// </summary>
internal sealed record TraceParameters
{
    public int Models { get; init; } = 24;

    public int ModelMib { get; init; } = 96;

    /// <summary>The engine's device pool, which resident models and the sessions' buffers share.</summary>
    public int PoolMib { get; init; } = 768;

    public double ZipfExponent { get; init; } = 1.1;

    /// <summary>Requests per second, ascending.</summary>
    public IReadOnlyList<double> Rates { get; init; } = [1, 2, 3, 4, 6, 8, 12, 16, 20, 24];

    /// <summary>The arrival window.</summary>
    public double DurationSeconds { get; init; } = 20;

    public int MinSteps { get; init; } = 64;

    public int MaxSteps { get; init; } = 256;

    public int StepComputeMicroseconds { get; init; } = 2500;

    /// <summary>The time-per-step objective: a request's step i is due (i + 1) objectives after its arrival.</summary>
    public double SloMilliseconds { get; init; } = 100;

    public int Seed { get; init; } = 1;

    /// <summary>The step policy's <see cref="Engine.Scheduling.SchedulingOptions.SwapAmortization"/>.</summary>
    public double SwapAmortization { get; init; } = new Engine.Scheduling.SchedulingOptions().SwapAmortization;

    /// <summary>The simulated device's pinned host-to-device bandwidth; a GPU's own applies on CUDA.</summary>
    public double SimCopyGigabytesPerSecond { get; init; } = 4;

    /// <summary>
    /// How long after the arrival window a request may still finish: its longest possible run
    /// with every step on time. A request not done by then has missed on some step.
    /// </summary>
    public double DrainSeconds => MaxSteps * SloMilliseconds / 1e3;

    /// <summary>How many models compute alone can keep decoding at the objective's pace, one step each per objective, were swaps free.</summary>
    public double ModelsAtPace => SloMilliseconds * 1e3 / StepComputeMicroseconds;

    /// <summary>The options that reproduce this trace.</summary>
    public string CommandLine => string.Create(CultureInfo.InvariantCulture,
        $"--models {Models} --model-mib {ModelMib} --pool-mib {PoolMib} --zipf {ZipfExponent} --rates {string.Join(',', Rates.Select(r => r.ToString(CultureInfo.InvariantCulture)))} --duration-s {DurationSeconds} --steps-per-request {MinSteps}-{MaxSteps} --step-us {StepComputeMicroseconds} --slo-ms {SloMilliseconds} --seed {Seed} --swap-amortization {SwapAmortization} --sim-copy-gbps {SimCopyGigabytesPerSecond}");
}

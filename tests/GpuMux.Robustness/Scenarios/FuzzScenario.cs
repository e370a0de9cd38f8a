using System.Diagnostics;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Fuzzing;

namespace GpuMux.Robustness.Scenarios;

internal sealed record FuzzOptions
{
    public required IReadOnlyList<FuzzFamily> Families { get; init; }

    public int Fuzzers { get; init; } = 4;

    public int HonestClients { get; init; } = 1;

    /// <summary>The fuzzers stop at this many frames, or at <see cref="Duration"/>, whichever comes first.</summary>
    public long MaxFrames { get; init; } = long.MaxValue;

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Random and mutated frames and descriptors from several fuzzing connections while honest
/// clients verify every step: no death, no hang, no error and no wrong result for the honest.
/// </summary>
internal static class FuzzScenario
{
    public const string Name = "fuzz";

    /// <summary>Families whose mutated launches may make a kernel fault, as a buggy client's would.</summary>
    private static readonly FuzzFamily[] FaultsExpected = [FuzzFamily.RandomBytes, FuzzFamily.Fields, FuzzFamily.Counts, FuzzFamily.Types, FuzzFamily.Lengths];

    public static async Task<ScenarioResult> RunAsync(RunSettings settings, FuzzOptions options, CancellationToken cancellationToken)
    {
        await using var run = await ScenarioRun.StartAsync(
            $"{Name}-{string.Join('-', options.Families).ToLowerInvariant()}", settings, cancellationToken, faultsExpected: options.Families.Any(FaultsExpected.Contains));
        var honest = new HonestCounters(run.Counts, run.Notes);
        var fuzz = new FuzzCounters(run.Counts, run.Notes, options.Families);
        run.MarkBaseline();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var elapsed = Stopwatch.StartNew();
        bool KeepGoing() => !stop.IsCancellationRequested && fuzz.Frames.Value < options.MaxFrames && elapsed.Elapsed < options.Duration && !run.Daemon.GaveUp;

        var honestClients = Enumerable.Range(0, options.HonestClients)
            .Select(i => Task.Run(() => new HonestClient(run.Daemon, honest, settings.Seed + i, settings.HangBound).RunAsync(stop.Token), CancellationToken.None))
            .ToArray();
        var fuzzers = Enumerable.Range(0, options.Fuzzers)
            .Select(i => Task.Run(() => new Fuzzer(run.Daemon, fuzz, options.Families, settings.Seed + 1000 + i, settings.HangBound).RunAsync(KeepGoing, stop.Token), CancellationToken.None))
            .ToArray();
        using (var progress = new Timer(_ => settings.Progress($"{Name}: {fuzz.Frames.Value} frames, {honest.Steps.Value} honest steps, {run.Deaths.Value} deaths"), null, 10_000, 10_000))
        {
            await Task.WhenAll(fuzzers);
        }

        await stop.CancelAsync();
        await Task.WhenAll(honestClients);

        run.Figure("honest step round trip", honest.StepLatency.Summarise());
        run.Figure("honest status round trip", honest.StatusLatency.Summarise());
        run.Figure("frames per second", $"{fuzz.Frames.Value / Math.Max(elapsed.Elapsed.TotalSeconds, 0.001):F0}");
        return await run.FinishAsync(
            $"{options.Fuzzers} fuzzing connections ({string.Join(", ", options.Families)}) against {options.HonestClients} honest client(s) verifying every step",
            $"families {string.Join(',', options.Families)}; fuzzers {options.Fuzzers}; honest {options.HonestClients}; frames up to {(options.MaxFrames == long.MaxValue ? "unbounded" : options.MaxFrames)}; duration up to {options.Duration.TotalSeconds:0} s; seed {settings.Seed}",
            cancellationToken);
    }
}
